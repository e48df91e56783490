#include <photon/api.h>

#include <cstdio>

int main() {
  std::printf("linked against Photon %s\n", photon::Version());
  return 0;
}
