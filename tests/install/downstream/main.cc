// A downstream project built against an installed Photon: runs one remote task
// on a private local cluster.
#include <photon/api.h>

#include <cstdio>

int Square(int x) { return x * x; }
PHOTON_REMOTE(Square);

int main(int argc, char** argv) {
  photon::Init(photon::Config{}, argc, argv);
  int result = *photon::Get(photon::Task(Square).Remote(7));
  std::printf("Photon %s: Square(7) = %d\n", photon::Version(), result);
  photon::Shutdown();
  return result == 49 ? 0 : 1;
}
