// Open MPI's handles are macros Swift cannot import (MPI_COMM_WORLD is
// ((MPI_Comm)&ompi_mpi_comm_world)); these one-line functions name them.
#include <mpi.h>

static inline MPI_Comm hark_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype hark_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype hark_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype hark_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype hark_mpi_int(void) { return MPI_INT; }
static inline MPI_Op hark_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op hark_mpi_max(void) { return MPI_MAX; }
static inline void *hark_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int hark_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
