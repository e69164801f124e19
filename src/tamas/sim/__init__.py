"""The simulator: drives the real ACD and IVR cores on a virtual clock."""
