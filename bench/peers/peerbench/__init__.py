"""The side-by-side benchmark of Driftless, Flux and Argo CD (bench/peers/run)."""
