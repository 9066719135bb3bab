#ifndef CRMSYNC_C_THREADS_FOR_SANITIZERS_H
#define CRMSYNC_C_THREADS_FOR_SANITIZERS_H
/* Linked into test binaries only; see threads_shim.c. */
int crmsync_c11_threads_shim_linked(void);
#endif
