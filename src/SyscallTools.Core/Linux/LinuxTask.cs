using System.Buffers.Binary;
using System.Text;

namespace SyscallTools.Core.Linux;

/// <summary>
/// The one task (process and thread) a machine runs: identity, thread_info flags, memory bookkeeping, virtual
/// file descriptors, and how it ended. Nothing here touches the host: output is captured, input is supplied.
/// </summary>
public sealed class LinuxTask
{
    public LinuxTask(int bitness) => Bitness = bitness;

    /// <summary>32 for an i386 task (compat mode on a 64-bit kernel), 64 for an x86-64 task.</summary>
    public int Bitness { get; }

    public int Pid { get; init; } = 4242;
    public int Tid => Pid;
    public int Ppid { get; init; } = 1;
    public int Uid { get; init; } = 1000;
    public int Gid { get; init; } = 1000;

    private ThreadFlags _flags;

    /// <summary>
    /// thread_info->flags. Once the kernel is booted the word lives in emulated memory, where the entry stubs'
    /// `test $_TIF_..., TI_flags` instructions read it.
    /// </summary>
    public ThreadFlags Flags
    {
        get => FlagsPage() is { } p
            ? (ThreadFlags)BinaryPrimitives.ReadUInt32LittleEndian(p.Data.AsSpan((int)(FlagsAddress & Memory.Page.OffsetMask)))
            : FlagsMemory is null ? _flags : (ThreadFlags)FlagsMemory.ReadUInt32(FlagsAddress);
        set
        {
            if (FlagsPage() is { } p)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(p.Data.AsSpan((int)(FlagsAddress & Memory.Page.OffsetMask)), (uint)value);
                FlagsMemory!.NoteWrite(p);
            }
            else if (FlagsMemory is null) _flags = value;
            else FlagsMemory.WriteUInt32(FlagsAddress, (uint)value);
        }
    }

    // The page holding the word, looked up once per mapping generation (as PtRegs does): the C entry code reads the
    // flags half a dozen times per system call.
    private Memory.Page? _flagsPage;
    private long _flagsGeneration = -1;

    private Memory.Page? FlagsPage()
    {
        if (FlagsMemory is not { } m) return null;
        if (_flagsGeneration == m.Generation) return _flagsPage;
        _flagsPage = (FlagsAddress & Memory.Page.OffsetMask) <= Memory.Page.Size - 4 ? m.Find(FlagsAddress >> Memory.Page.Shift) : null;
        _flagsGeneration = m.Generation;
        return _flagsPage;
    }

    internal Memory.AddressSpace? FlagsMemory { get; private set; }
    internal ulong FlagsAddress { get; private set; }

    internal void PlaceThreadInfo(Memory.AddressSpace memory, ulong address)
    {
        var current = Flags;
        FlagsMemory = memory;
        FlagsAddress = address;
        _flagsGeneration = -1;
        Flags = current;
    }

    /// <summary>thread_info->status TS_COMPAT: set while a 32-bit syscall is in progress on a 64-bit kernel.</summary>
    public bool TsCompat { get; set; }

    /// <summary>TS_I386_REGS_POKED: a 32-bit tracer wrote orig_ax since the last return to user mode.</summary>
    public bool RegsPoked { get; set; }

    /// <summary>
    /// TS_FASTSYSCALL — Brian Gerst's proposal (LKML, 2 Sep 2015), only read by the linux-4.4+fastsyscall-flag model:
    /// set on a fast 32-bit entry, cleared by force_iret() (tracer writes, signal frames, sigreturn).
    /// </summary>
    public bool FastSyscall { get; set; }

    /// <summary>
    /// Andy Lutomirski's floated syscall_pt_regs_write() accessor "could set a flag" (LKML, 3 Sep 2015): set by every
    /// write to the user registers in pt_regs made on the task's behalf (a tracer's, a signal frame's, sigreturn's,
    /// single-step's TF); cleared on a fast entry. Only the linux-4.4+ptregs-accessors model reads it.
    /// </summary>
    public bool PtRegsWritten { get; set; }

    /// <summary>Base of the 32-bit vDSO mapping (mm->context.vdso), 0 when there is none.</summary>
    public ulong VdsoBase { get; set; }

    /// <summary>The path the running program was exec'd as (AT_EXECFN, readlink("/proc/self/exe")), or null.</summary>
    public string? ExecPath { get; set; }

    /// <summary>alarm(2): when SIGALRM is due, in virtual nanoseconds, or null when no alarm is set.</summary>
    public ulong? AlarmAtNs { get; set; }

    public ulong BrkStart { get; set; }
    public ulong Brk { get; set; }

    /// <summary>Virtual time in nanoseconds (nanosleep advances it; nothing waits).</summary>
    public ulong VirtualTimeNs { get; set; }

    public Dictionary<int, VirtualFile> Files { get; } = new();

    /// <summary>The files open/openat see.</summary>
    public Files.VirtualFileSystem FileSystem { get; } = new();

    /// <summary>set_tid_address's pointer (clear_child_tid) and set_robust_list's head and length.</summary>
    public ulong ClearChildTid { get; set; }
    public ulong RobustListHead { get; set; }

    /// <summary>The resource limits (getrlimit/prlimit64), RLIM_INFINITY as ulong.MaxValue.</summary>
    public (ulong Cur, ulong Max)[] Limits { get; } = Syscalls.Handlers.Limits.Defaults();

    public bool Exited { get; private set; }
    public int ExitStatus { get; private set; }
    /// <summary>The signal that killed the task, if one did.</summary>
    public int? KilledBy { get; private set; }

    public void Exit(int status)
    {
        Exited = true;
        ExitStatus = status & 0xFF;
    }

    public void Kill(int signal)
    {
        Exited = true;
        KilledBy = signal;
        ExitStatus = 128 + signal;
    }

    /// <summary>What the task wrote to fd 1 and fd 2.</summary>
    public string Stdout => Encoding.UTF8.GetString(((CaptureFile)Files.GetValueOrDefault(1, CaptureFile.Empty)).Bytes);
    /// <summary>fd 1's bytes as written (a probe's binary record).</summary>
    public byte[] StdoutBytes => ((CaptureFile)Files.GetValueOrDefault(1, CaptureFile.Empty)).Bytes;
    public string Stderr => Encoding.UTF8.GetString(((CaptureFile)Files.GetValueOrDefault(2, CaptureFile.Empty)).Bytes);

    public static LinuxTask Create(int bitness)
    {
        var t = new LinuxTask(bitness);
        t.Files[0] = new InputFile([]);
        t.Files[1] = new CaptureFile();
        t.Files[2] = new CaptureFile();
        return t;
    }
}

/// <summary>A virtual open file: reads and writes stay inside the emulator.</summary>
public abstract class VirtualFile
{
    /// <summary>Reads up to buffer.Length bytes; returns the count, or a negative errno.</summary>
    public abstract long Read(Span<byte> buffer);
    public abstract long Write(ReadOnlySpan<byte> data);

    /// <summary>What fstat reports: a pipe unless the file says otherwise (one pipefs inode number for all: a run
    /// must not depend on how many machines were made before it).</summary>
    public virtual Files.VirtualStat Stat => Files.VirtualStat.Pipe(0x1000);

    /// <summary>lseek: only seekable files move; a pipe or terminal answers -ESPIPE.</summary>
    public virtual long Seek(long offset, int whence) => -Errno.ESPIPE;

    /// <summary>A terminal: TCGETS and TIOCGWINSZ answer instead of -ENOTTY.</summary>
    public bool IsTty { get; init; }
}

/// <summary>Captures writes (stdout, stderr).</summary>
public sealed class CaptureFile : VirtualFile
{
    public override Files.VirtualStat Stat => IsTty ? Files.VirtualStat.Tty : base.Stat;
    internal static readonly CaptureFile Empty = new();
    private readonly List<byte> _bytes = new();
    public byte[] Bytes => _bytes.ToArray();
    public override long Read(Span<byte> buffer) => -Errno.EBADF;
    public override long Write(ReadOnlySpan<byte> data)
    {
        _bytes.AddRange(data.ToArray());
        return data.Length;
    }
}

/// <summary>Supplies fixed input (stdin); reads past the end return 0 (EOF).</summary>
public sealed class InputFile(byte[] content) : VirtualFile
{
    private int _position;
    public override long Read(Span<byte> buffer)
    {
        int n = Math.Min(buffer.Length, content.Length - _position);
        content.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }
    public override long Write(ReadOnlySpan<byte> data) => -Errno.EBADF;
}

/// <summary>One end of an in-memory pipe.</summary>
public sealed class PipeEnd(Queue<byte> buffer, bool readEnd) : VirtualFile
{
    public override long Read(Span<byte> dest)
    {
        if (!readEnd) return -Errno.EBADF;
        int n = 0;
        while (n < dest.Length && buffer.Count > 0) dest[n++] = buffer.Dequeue();
        // An empty pipe with no writer would block; the model has one task, so report EAGAIN rather than hang.
        return n == 0 && dest.Length > 0 ? -Errno.EAGAIN : n;
    }
    public override long Write(ReadOnlySpan<byte> data)
    {
        if (readEnd) return -Errno.EBADF;
        foreach (var b in data) buffer.Enqueue(b);
        return data.Length;
    }
}
