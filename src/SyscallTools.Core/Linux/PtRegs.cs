using SyscallTools.Core.Memory;

namespace SyscallTools.Core.Linux;

/// <summary>One field of struct pt_regs: its kernel name, offset, and the group it sits in.</summary>
public sealed record PtRegsField(string Name, int Offset, string Group);

/// <summary>
/// struct pt_regs as a typed view over the bytes on the emulated kernel stack (arch/x86/include/asm/ptrace.h).
/// The stubs' pushes write it; a tracer's edit writes here; the exit path reads it back. Field order and groups
/// follow the kernel header for each kernel bitness.
/// </summary>
public sealed class PtRegs
{
    public static readonly IReadOnlyList<PtRegsField> Layout64 =
    [
        new("r15", 0x00, "callee-preserved"), new("r14", 0x08, "callee-preserved"), new("r13", 0x10, "callee-preserved"),
        new("r12", 0x18, "callee-preserved"), new("bp", 0x20, "callee-preserved"), new("bx", 0x28, "callee-preserved"),
        new("r11", 0x30, "callee-clobbered"), new("r10", 0x38, "callee-clobbered"), new("r9", 0x40, "callee-clobbered"),
        new("r8", 0x48, "callee-clobbered"), new("ax", 0x50, "callee-clobbered"), new("cx", 0x58, "callee-clobbered"),
        new("dx", 0x60, "callee-clobbered"), new("si", 0x68, "callee-clobbered"), new("di", 0x70, "callee-clobbered"),
        new("orig_ax", 0x78, "syscall number / error code"),
        new("ip", 0x80, "hardware return frame"), new("cs", 0x88, "hardware return frame"), new("flags", 0x90, "hardware return frame"),
        new("sp", 0x98, "hardware return frame"), new("ss", 0xA0, "hardware return frame"),
    ];

    public static readonly IReadOnlyList<PtRegsField> Layout32 =
    [
        new("bx", 0x00, "general registers"), new("cx", 0x04, "general registers"), new("dx", 0x08, "general registers"),
        new("si", 0x0C, "general registers"), new("di", 0x10, "general registers"), new("bp", 0x14, "general registers"),
        new("ax", 0x18, "general registers"),
        new("ds", 0x1C, "segments"), new("es", 0x20, "segments"), new("fs", 0x24, "segments"), new("gs", 0x28, "segments"),
        new("orig_ax", 0x2C, "syscall number / error code"),
        new("ip", 0x30, "hardware return frame"), new("cs", 0x34, "hardware return frame"), new("flags", 0x38, "hardware return frame"),
        new("sp", 0x3C, "hardware return frame"), new("ss", 0x40, "hardware return frame"),
    ];

    public const int Size64 = 0xA8, Size32 = 0x44;

    private readonly AddressSpace _memory;
    private readonly Dictionary<string, PtRegsField> _byName;

    public PtRegs(AddressSpace memory, ulong address, int kernelBits)
    {
        _memory = memory;
        Address = address;
        KernelBits = kernelBits;
        Fields = kernelBits == 64 ? Layout64 : Layout32;
        _byName = Fields.ToDictionary(f => f.Name);
    }

    /// <summary>Where the structure starts on the kernel stack.</summary>
    public ulong Address { get; }
    public int KernelBits { get; }
    public IReadOnlyList<PtRegsField> Fields { get; }
    public int WordSize => KernelBits / 8;

    public bool Has(string name) => _byName.ContainsKey(name);

    public ulong this[string name]
    {
        get
        {
            var f = _byName[name];
            return KernelBits == 64 ? _memory.ReadUInt64(Address + (ulong)f.Offset) : _memory.ReadUInt32(Address + (ulong)f.Offset);
        }
        set
        {
            var f = _byName[name];
            if (KernelBits == 64) _memory.WriteUInt64(Address + (ulong)f.Offset, value);
            else _memory.WriteUInt32(Address + (ulong)f.Offset, (uint)value);
        }
    }

    public ulong Bx { get => this["bx"]; set => this["bx"] = value; }
    public ulong Cx { get => this["cx"]; set => this["cx"] = value; }
    public ulong Dx { get => this["dx"]; set => this["dx"] = value; }
    public ulong Si { get => this["si"]; set => this["si"] = value; }
    public ulong Di { get => this["di"]; set => this["di"] = value; }
    public ulong Bp { get => this["bp"]; set => this["bp"] = value; }
    public ulong Ax { get => this["ax"]; set => this["ax"] = value; }
    public ulong OrigAx { get => this["orig_ax"]; set => this["orig_ax"] = value; }
    public ulong Ip { get => this["ip"]; set => this["ip"] = value; }
    public ulong Cs { get => this["cs"]; set => this["cs"] = value; }
    public ulong Flags { get => this["flags"]; set => this["flags"] = value; }
    public ulong Sp { get => this["sp"]; set => this["sp"] = value; }
    public ulong Ss { get => this["ss"]; set => this["ss"] = value; }
    public ulong R8 { get => this["r8"]; set => this["r8"] = value; }
    public ulong R9 { get => this["r9"]; set => this["r9"] = value; }
    public ulong R10 { get => this["r10"]; set => this["r10"] = value; }
    public ulong R11 { get => this["r11"]; set => this["r11"] = value; }

    /// <summary>A copy of every field's value, in struct order.</summary>
    public IReadOnlyList<(string Name, ulong Value)> Snapshot() => Fields.Select(f => (f.Name, this[f.Name])).ToList();

    /// <summary>user_mode(regs): the saved CS has RPL 3.</summary>
    public bool UserMode => (Cs & 3) == 3;
}
