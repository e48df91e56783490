from photon.dashboard.dashboard import main

main()
