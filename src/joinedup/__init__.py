"""joinedup: the digital platform of a place-based health and social care partnership."""

import os

# Dense linear algebra (the panel selection's interior-point solver) runs in one BLAS thread
# per process: the platform runs several processes on few cores, and OpenBLAS's own threads
# then fight them (one 715 x 715 factorisation took 16 ms on one thread and 2 s on two on a
# busy machine). Set before numpy loads; an operator's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
