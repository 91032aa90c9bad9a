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

    private static readonly Dictionary<string, PtRegsField> ByName64 = Layout64.ToDictionary(f => f.Name);
    private static readonly Dictionary<string, PtRegsField> ByName32 = Layout32.ToDictionary(f => f.Name);

    private readonly AddressSpace _memory;
    private readonly Dictionary<string, PtRegsField> _byName;

    public PtRegs(AddressSpace memory, ulong address, int kernelBits)
    {
        _memory = memory;
        Address = address;
        KernelBits = kernelBits;
        Fields = kernelBits == 64 ? Layout64 : Layout32;
        _byName = kernelBits == 64 ? ByName64 : ByName32;
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

    // The named accessors go straight to their offsets: the exit policies read them on every system call.
    // The page holding the structure, looked up once per mapping generation: the C entry code reads and writes a dozen
    // fields on every system call, and each lookup through the address space costs more than the access itself.
    private Page? _page;
    private byte[]? _bytes;
    private long _pageGeneration = -1;

    private Page? HomePage()
    {
        if (_pageGeneration == _memory.Generation) return _page;
        int off = (int)(Address & Page.OffsetMask);
        _page = off + (KernelBits == 64 ? Size64 : Size32) <= Page.Size ? _memory.Find(Address >> Page.Shift) : null;
        _bytes = _page?.Data;
        _pageGeneration = _memory.Generation;
        return _page;
    }

    /// <summary>The structure's first byte in its page's bytes, while the mapping generation is the one looked up; else null.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private byte[]? Bytes() => _pageGeneration == _memory.Generation ? _bytes : (HomePage() is not null ? _bytes : null);

    private int At => (int)(Address & Page.OffsetMask);

    private ulong Read(int off64, int off32)
    {
        if (Bytes() is { } b)
        {
            return KernelBits == 64
                ? System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(At + off64))
                : System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(At + off32));
        }
        return KernelBits == 64 ? _memory.ReadUInt64(Address + (ulong)off64) : _memory.ReadUInt32(Address + (ulong)off32);
    }

    private void Write(int off64, int off32, ulong v)
    {
        if (Bytes() is { } b)
        {
            if (KernelBits == 64) System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(At + off64), v);
            else System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(At + off32), (uint)v);
            _memory.NoteWrite(_page!);
            return;
        }
        if (KernelBits == 64) _memory.WriteUInt64(Address + (ulong)off64, v); else _memory.WriteUInt32(Address + (ulong)off32, (uint)v);
    }

    public ulong Bx { get => Read(0x28, 0x00); set => Write(0x28, 0x00, value); }
    public ulong Cx { get => Read(0x58, 0x04); set => Write(0x58, 0x04, value); }
    public ulong Dx { get => Read(0x60, 0x08); set => Write(0x60, 0x08, value); }
    public ulong Si { get => Read(0x68, 0x0C); set => Write(0x68, 0x0C, value); }
    public ulong Di { get => Read(0x70, 0x10); set => Write(0x70, 0x10, value); }
    public ulong Bp { get => Read(0x20, 0x14); set => Write(0x20, 0x14, value); }
    public ulong Ax { get => Read(0x50, 0x18); set => Write(0x50, 0x18, value); }
    public ulong OrigAx { get => Read(0x78, 0x2C); set => Write(0x78, 0x2C, value); }
    public ulong Ip { get => Read(0x80, 0x30); set => Write(0x80, 0x30, value); }
    public ulong Cs { get => Read(0x88, 0x34); set => Write(0x88, 0x34, value); }
    public ulong Flags { get => Read(0x90, 0x38); set => Write(0x90, 0x38, value); }
    public ulong Sp { get => Read(0x98, 0x3C); set => Write(0x98, 0x3C, value); }
    public ulong Ss { get => Read(0xA0, 0x40); set => Write(0xA0, 0x40, value); }
    // r8-r11 exist only in the 64-bit layout; on a 32-bit kernel the by-name path refuses them, as it always has.
    public ulong R8 { get => KernelBits == 64 ? Read(0x48, 0) : this["r8"]; set { if (KernelBits == 64) Write(0x48, 0, value); else this["r8"] = value; } }
    public ulong R9 { get => KernelBits == 64 ? Read(0x40, 0) : this["r9"]; set { if (KernelBits == 64) Write(0x40, 0, value); else this["r9"] = value; } }
    public ulong R10 { get => KernelBits == 64 ? Read(0x38, 0) : this["r10"]; set { if (KernelBits == 64) Write(0x38, 0, value); else this["r10"] = value; } }
    public ulong R11 { get => KernelBits == 64 ? Read(0x30, 0) : this["r11"]; set { if (KernelBits == 64) Write(0x30, 0, value); else this["r11"] = value; } }

    /// <summary>A copy of every field's value, in struct order (the bytes are copied now, decoded when read).</summary>
    public IReadOnlyList<(string Name, ulong Value)> Snapshot() => new PtRegsSnapshot(_memory.ReadBytes(Address, KernelBits == 64 ? Size64 : Size32), KernelBits);

    /// <summary>user_mode(regs): the saved CS has RPL 3.</summary>
    public bool UserMode => (Cs & 3) == 3;
}

/// <summary>A saved copy of pt_regs, decoded into (name, value) pairs only when read.</summary>
internal sealed class PtRegsSnapshot(byte[] bytes, int kernelBits) : IReadOnlyList<(string Name, ulong Value)>
{
    private IReadOnlyList<PtRegsField> Fields => kernelBits == 64 ? PtRegs.Layout64 : PtRegs.Layout32;
    public int Count => Fields.Count;
    public (string Name, ulong Value) this[int index]
    {
        get
        {
            var f = Fields[index];
            ulong v = kernelBits == 64 ? BitConverter.ToUInt64(bytes, f.Offset) : BitConverter.ToUInt32(bytes, f.Offset);
            return (f.Name, v);
        }
    }
    public IEnumerator<(string Name, ulong Value)> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return this[i];
    }
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
