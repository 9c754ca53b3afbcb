import CMPI
import Foundation
import HarkCore

/// The ranks of an MPI job (Open MPI): `mpirun -np N hark …` or Slurm's
/// `srun hark …`. MPI is initialised only when a launcher started the
/// process (its environment says so); a plain `hark …` never touches it.
///
/// Errors abort the job (MPI's default handler): when a rank dies, the
/// launcher ends the others and says which rank failed, so no rank waits
/// forever in a collective.
public final class MPICollective: Collective {
    /// This process's rank in `MPI_COMM_WORLD`, 0 ..< size.
    public let rank: Int
    /// The number of ranks in `MPI_COMM_WORLD`.
    public let size: Int
    private let comm: MPI_Comm

    /// Environment variables a launcher sets: Open MPI's mpirun, PMIx and PMI
    /// (Slurm's srun, MPICH's Hydra).
    static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"]

    /// Whether a launcher started this process.
    public static var launched: Bool {
        let env = ProcessInfo.processInfo.environment
        return launcherVariables.contains { env[$0] != nil }
    }

    nonisolated(unsafe) private static var shared: MPICollective?

    /// The job's collective when launched by mpirun or srun (MPI is
    /// initialised on first use), else nil.
    public static func fromLauncher() -> MPICollective? {
        guard launched else { return nil }
        if let shared { return shared }
        var provided: Int32 = 0
        var argc: Int32 = 0
        _ = MPI_Init_thread(&argc, nil, hark_mpi_thread_funneled(), &provided)
        let c = MPICollective()
        shared = c
        atexit { MPICollective.finalize() }
        return c
    }

    private init() {
        comm = hark_mpi_comm_world()
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(comm, &r)
        MPI_Comm_size(comm, &s)
        rank = Int(r)
        size = Int(s)
    }

    /// Ends MPI (at exit).
    static func finalize() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0 { MPI_Finalize() }
    }

    /// Ends every rank of the job (the caller has printed why).
    public func abort(code: Int32 = 1) -> Never {
        MPI_Abort(comm, code)
        exit(code)
    }

    /// Element-wise sum over the ranks, in place (`MPI_Allreduce`).
    public func allreduceSum(_ values: inout [Float]) {
        let n = Int32(values.count)
        values.withUnsafeMutableBufferPointer { b in
            _ = MPI_Allreduce(hark_mpi_in_place(), b.baseAddress, n, hark_mpi_float(), hark_mpi_sum(), comm)
        }
    }

    /// Element-wise sum over the ranks, in place (`MPI_Allreduce`).
    public func allreduceSum(_ values: inout [Double]) {
        let n = Int32(values.count)
        values.withUnsafeMutableBufferPointer { b in
            _ = MPI_Allreduce(hark_mpi_in_place(), b.baseAddress, n, hark_mpi_double(), hark_mpi_sum(), comm)
        }
    }

    /// Every rank's bytes, in rank order, each rank's of its own size (`MPI_Allgatherv` after exchanging the sizes).
    public func allgather(_ bytes: [UInt8]) -> [[UInt8]] {
        var counts = [Int32](repeating: 0, count: size)
        var mine = Int32(bytes.count)
        MPI_Allgather(&mine, 1, hark_mpi_int(), &counts, 1, hark_mpi_int(), comm)
        var displacements = [Int32](repeating: 0, count: size)
        for r in 1..<max(1, size) { displacements[r] = displacements[r - 1] + counts[r - 1] }
        var all = [UInt8](repeating: 0, count: Int(counts.reduce(0, +)))
        var send = bytes.isEmpty ? [0] : bytes
        send.withUnsafeMutableBufferPointer { s in
            all.withUnsafeMutableBufferPointer { a in
                _ = MPI_Allgatherv(s.baseAddress, mine, hark_mpi_byte(), a.baseAddress, &counts, &displacements, hark_mpi_byte(), comm)
            }
        }
        return (0..<size).map { r in Array(all[Int(displacements[r])..<Int(displacements[r] + counts[r])]) }
    }

    /// Rank `root`'s bytes on every rank (`MPI_Bcast` after summing the size over the ranks).
    public func broadcast(_ bytes: [UInt8], root: Int) -> [UInt8] {
        var n = [Double(bytes.count)]
        if rank != root { n[0] = 0 }
        allreduceSum(&n)
        var buffer = rank == root ? bytes : [UInt8](repeating: 0, count: Int(n[0]))
        let count = Int32(buffer.count)
        buffer.withUnsafeMutableBufferPointer { b in
            _ = MPI_Bcast(b.baseAddress, count, hark_mpi_byte(), Int32(root), comm)
        }
        return buffer
    }

    /// Returns when every rank has called it (`MPI_Barrier`).
    public func barrier() { MPI_Barrier(comm) }
}
