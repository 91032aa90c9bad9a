using System.Text;

namespace SyscallTools.Core.Linux.Syscalls;

/// <summary>What a syscall handler sees: the task, its six arguments (already zero-extended for i386), pt_regs, user memory.</summary>
public sealed class SyscallContext
{
    internal SyscallContext(LinuxMachine machine, SyscallAbi abi, int number, ulong[] args, PtRegs regs)
    {
        Machine = machine;
        Abi = abi;
        Number = number;
        _args = args;
        Regs = regs;
    }

    /// <summary>Points the machine's re-used context at the next call (see LinuxMachine.RunHandler).</summary>
    internal void Reset(SyscallAbi abi, int number, PtRegs regs)
    {
        Abi = abi;
        Number = number;
        Regs = regs;
    }

    private readonly ulong[] _args;

    /// <summary>The argument array the next call's values are written into.</summary>
    internal ulong[] ArgBuffer => _args;

    public LinuxMachine Machine { get; }
    public LinuxTask Task => Machine.Task;
    public SyscallAbi Abi { get; private set; }
    public int Number { get; private set; }
    public IReadOnlyList<ulong> Args => _args;
    public PtRegs Regs { get; private set; }

    public ulong Arg(int i) => _args[i];
    public int ArgInt(int i) => (int)_args[i];

    /// <summary>copy_from_user: false when any byte is not mapped for user access.</summary>
    public bool ReadUser(ulong address, Span<byte> into) => Machine.UserMemory.TryRead(address, into);

    /// <summary>copy_to_user: false when any byte is not writable by the user.</summary>
    public bool WriteUser(ulong address, ReadOnlySpan<byte> data) => Machine.UserMemory.TryWrite(address, data);

    public bool WriteUserUInt32(ulong address, uint value) => WriteUser(address, BitConverter.GetBytes(value));
    public bool WriteUserUInt64(ulong address, ulong value) => WriteUser(address, BitConverter.GetBytes(value));

    /// <summary>strncpy_from_user: null on a fault or when no terminator is found within <paramref name="max"/> bytes.</summary>
    public string? ReadUserString(ulong address, int max = 4096)
    {
        var bytes = new List<byte>();
        Span<byte> one = stackalloc byte[1];
        for (int i = 0; i < max; i++)
        {
            if (!ReadUser(address + (ulong)i, one)) return null;
            if (one[0] == 0) return Encoding.UTF8.GetString(bytes.ToArray());
            bytes.Add(one[0]);
        }
        return null;
    }
}
