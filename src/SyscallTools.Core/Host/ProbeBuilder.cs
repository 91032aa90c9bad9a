using System.Buffers.Binary;
using System.Globalization;
using SyscallTools.Core.Assembly;
using SyscallTools.Core.Elf;

namespace SyscallTools.Core.Host;

/// <summary>
/// A probe program: a static executable (no libc, no toolchain) that records register state into numbered 8-byte
/// slots of its data page and, at the end, writes the used slots to stdout and exits. The same bytes run on the host
/// kernel and in the emulator; <see cref="Parse"/> turns either output back into named values.
/// </summary>
public sealed record ProbeProgram
{
    public required string Name { get; init; }
    public required int Bitness { get; init; }
    /// <summary>The ELF file.</summary>
    public required byte[] Elf { get; init; }
    public required ulong TextAddress { get; init; }
    public required ulong DataAddress { get; init; }
    public required ulong Entry { get; init; }
    /// <summary>Every label of the probe's code and its address.</summary>
    public required IReadOnlyDictionary<string, ulong> Labels { get; init; }
    /// <summary>Slot names, in slot order.</summary>
    public required IReadOnlyList<string> Slots { get; init; }
    /// <summary>True when the probe stops itself with SIGSTOP first, for a tracer to attach.</summary>
    public bool StopsForTracer { get; init; }
    /// <summary>True when stdout is raw bytes (a vDSO dump), not slots.</summary>
    public bool RawOutput { get; init; }

    /// <summary>Slot values by name, from the probe's stdout (missing slots, from a short write, are left out).</summary>
    public IReadOnlyDictionary<string, ulong> Parse(ReadOnlySpan<byte> stdout)
    {
        var values = new Dictionary<string, ulong>(StringComparer.Ordinal);
        for (int i = 0; i < Slots.Count && 8 * i + 8 <= stdout.Length; i++)
            values[Slots[i]] = BinaryPrimitives.ReadUInt64LittleEndian(stdout[(8 * i)..]);
        return values;
    }

    /// <summary>The label at or before <paramref name="address"/> in the code, as "label" or "label+0xN", or null outside it.</summary>
    public string? Symbolize(ulong address)
    {
        if (address < TextAddress || address >= TextAddress + 0x10000) return null;
        string? best = null;
        ulong bestAt = 0;
        foreach (var (name, at) in Labels)
            if (at <= address && (best is null || at > bestAt || (at == bestAt && string.CompareOrdinal(name, best) < 0))) { best = name; bestAt = at; }
        if (best is null) return null;
        return address == bestAt ? best : $"{best}+0x{address - bestAt:x}";
    }
}

/// <summary>
/// Writes probe programs: Intel-syntax text assembled with <see cref="IntelSyntax"/> and wrapped by
/// <see cref="ElfExecutableWriter"/>. The layout matches where the emulator's exec puts a task's text and data
/// (0x08048000/0x08060000 for i386, 0x400000/0x600000 for x86-64), so the bytes run unrelocated in both places.
/// </summary>
/// <remarks>
/// Every probe starts the same way: it records the registers exec left (slots <c>exec.*</c>), then walks the auxv for
/// AT_SYSINFO and AT_SYSINFO_EHDR (<c>aux.sysinfo</c>, <c>aux.vdso</c>). The body follows, then <c>finish:</c>, which
/// writes the slots to stdout and calls exit_group(0). Slots are 8 bytes; a 32-bit probe fills the low half.
/// Text may contain <c>{label:name}</c> (a label's address as an immediate) and <c>{slot:name}</c> (a slot's address).
/// </remarks>
public sealed class ProbeBuilder
{
    public const ulong Text32 = 0x0804_8000, Data32 = 0x0806_0000, Text64 = 0x40_0000, Data64 = 0x60_0000;
    /// <summary>Scratch space in the data page after the slots: a sigaction, a timespec, a buffer.</summary>
    public const int SlotArea = 0x800, Scratch = 0x800, DataSize = 0x2000;

    private readonly List<string> _lines = new();
    private readonly List<string> _slots = new();
    private readonly string _name;

    public ProbeBuilder(string name, int bitness)
    {
        if (bitness is not (32 or 64)) throw new ArgumentOutOfRangeException(nameof(bitness));
        _name = name;
        Bitness = bitness;
        Prologue();
    }

    public int Bitness { get; }
    public ulong TextAddress => Bitness == 32 ? Text32 : Text64;
    public ulong DataAddress => Bitness == 32 ? Data32 : Data64;
    public ulong ScratchAddress => DataAddress + Scratch;
    private bool _stops, _raw;

    /// <summary>The general registers in the order a probe records them (pt_regs names).</summary>
    public IReadOnlyList<string> Registers => Bitness == 32
        ? ["ax", "bx", "cx", "dx", "si", "di", "bp", "sp"]
        : ["ax", "bx", "cx", "dx", "si", "di", "bp", "sp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];

    public static string Hw(string reg, int bits) => reg.StartsWith('r') && char.IsDigit(reg[1]) ? reg : (bits == 32 ? "e" : "r") + reg;
    public string Hw(string reg) => Hw(reg, Bitness);
    private string Ptr => Bitness == 32 ? "dword ptr" : "qword ptr";

    /// <summary>The address of slot <paramref name="name"/> (allocated on first use).</summary>
    public ulong Slot(string name)
    {
        int i = _slots.IndexOf(name);
        if (i < 0)
        {
            if (_slots.Count == SlotArea / 8) throw new InvalidOperationException("A probe has at most 256 slots.");
            _slots.Add(name);
            i = _slots.Count - 1;
        }
        return DataAddress + (ulong)(8 * i);
    }

    public ProbeBuilder Asm(string text)
    {
        _lines.Add(text);
        return this;
    }

    /// <summary>Stores a register (its full width) in a slot.</summary>
    public ProbeBuilder Save(string slot, string hwReg) => Asm($"mov {Ptr} [0x{Slot(slot):x}], {hwReg}");

    /// <summary>Stores an immediate in a slot.</summary>
    public ProbeBuilder SaveImm(string slot, long value) => Asm($"mov {Ptr} [0x{Slot(slot):x}], {value}");

    /// <summary>Records every general register and the flags under <paramref name="prefix"/>. Uses two stack slots for the flags.</summary>
    public ProbeBuilder SaveAll(string prefix)
    {
        foreach (var r in Registers) Save($"{prefix}.{r}", Hw(r));
        Asm(Bitness == 32 ? "pushfd" : "pushfq");
        Asm($"pop {Ptr} [0x{Slot(prefix + ".flags"):x}]");
        return this;
    }

    /// <summary>Records the six segment selectors under <paramref name="prefix"/>.</summary>
    public ProbeBuilder SaveSegments(string prefix)
    {
        foreach (var s in new[] { "cs", "ss", "ds", "es", "fs", "gs" })
        {
            // A segment store to memory writes 16 bits; the slot's other bytes are still zero.
            Asm($"mov word ptr [0x{Slot($"{prefix}.{s}"):x}], {s}");
        }
        return this;
    }

    /// <summary>Loads the sentinel values (<see cref="Sentinel"/>) into every register but those in <paramref name="except"/>.</summary>
    public ProbeBuilder LoadSentinels(params string[] except)
    {
        foreach (var r in Registers)
            if (r is not ("sp" or "ax") && !except.Contains(r)) Asm($"mov {Hw(r)}, 0x{Sentinel(r, Bitness):x}");
        return this;
    }

    /// <summary>The sentinels a probe puts in registers that carry nothing, so a clobber is visible.</summary>
    public static ulong Sentinel(string reg, int bits) => Linux.LinuxMachine.Sentinel(reg, bits) is var v && v != 0 ? v
        : throw new ArgumentException($"no sentinel for {reg}", nameof(reg));

    /// <summary>Calls a system call the plain way (int 0x80 / syscall), for the probe's own housekeeping.</summary>
    public ProbeBuilder Sys(long nr, params long[] args)
    {
        string[] regs = Bitness == 32 ? ["ebx", "ecx", "edx", "esi", "edi", "ebp"] : ["rdi", "rsi", "rdx", "r10", "r8", "r9"];
        for (int i = 0; i < args.Length; i++) Asm($"mov {regs[i]}, {args[i].ToString(CultureInfo.InvariantCulture)}");
        Asm($"mov eax, {nr}");
        return Asm(Bitness == 32 ? "int 0x80" : "syscall");
    }

    /// <summary>kill(getpid(), SIGSTOP): the probe waits here for a tracer to attach.</summary>
    public ProbeBuilder StopForTracer()
    {
        _stops = true;
        Sys(Bitness == 32 ? 20 : 39);
        Asm(Bitness == 32 ? "mov ebx, eax" : "mov rdi, rax");
        Asm(Bitness == 32 ? "mov ecx, 19" : "mov esi, 19");
        Asm($"mov eax, {(Bitness == 32 ? 37 : 62)}");
        Asm(Bitness == 32 ? "int 0x80" : "syscall");
        return Asm("stopped:");
    }

    /// <summary>
    /// rt_sigaction(sig, {handler, SA_SIGINFO|SA_RESTORER[|extra], restorer = finish}, NULL, 8). The handler label must
    /// exist in the probe. The restorer is never used: handlers end by jumping to finish.
    /// </summary>
    public ProbeBuilder InstallHandler(int sig, string handlerLabel, long extraFlags = 0, string restorer = "finish")
    {
        ulong act = ScratchAddress;
        int w = Bitness / 8;
        // "SIG_IGN" / "SIG_DFL" install the dispositions themselves.
        string handler = handlerLabel switch { "SIG_IGN" => "1", "SIG_DFL" => "0", _ => $"{{label:{handlerLabel}}}" };
        Asm($"mov {Ptr} [0x{act:x}], {handler}");
        Asm($"mov {Ptr} [0x{act + (ulong)w:x}], 0x{0x0400_0004 | extraFlags:x}");
        Asm($"mov {Ptr} [0x{act + 2 * (ulong)w:x}], {{label:{restorer}}}");
        Asm($"mov {Ptr} [0x{act + 3 * (ulong)w:x}], 0");
        if (Bitness == 32) Asm($"mov dword ptr [0x{act + 16:x}], 0");
        return Sys(Bitness == 32 ? 174 : 13, sig, (long)act, 0, 8);
    }

    /// <summary>
    /// The common SA_SIGINFO handler: records signo, si_code, si_addr and, from the ucontext, trapno, err, ip, sp, ax
    /// and the flags as the signal saw them under <c>sig.*</c>, sets <c>phase</c> = 2, and finishes.
    /// </summary>
    public ProbeBuilder SignalRecorder(string label = "handler")
    {
        Asm($"{label}:");
        SaveImm("phase", 2);
        if (Bitness == 32)
        {
            Asm("mov eax, [esp+4]"); Save("sig.signo", "eax");
            Asm("mov ebx, [esp+8]");
            Asm("mov eax, [ebx+8]"); Save("sig.code", "eax");
            Asm("mov eax, [ebx+12]"); Save("sig.addr", "eax");
            Asm("mov ebx, [esp+12]");
            // struct ucontext_ia32: uc_mcontext (struct sigcontext_32) at 20.
            foreach (var (f, off) in new[] { ("trapno", 68), ("err", 72), ("ip", 76), ("flags", 84), ("sp", 48), ("ax", 64), ("cx", 60), ("dx", 56) })
            {
                Asm($"mov eax, [ebx+{off}]"); Save($"sig.{f}", "eax");
            }
        }
        else
        {
            Save("sig.signo", "rdi");
            Asm("mov eax, [rsi+8]"); Save("sig.code", "rax");
            Asm("mov rax, [rsi+16]"); Save("sig.addr", "rax");
            // struct ucontext: uc_mcontext (struct sigcontext_64) at 40.
            foreach (var (f, off) in new[] { ("trapno", 200), ("err", 192), ("ip", 168), ("flags", 176), ("sp", 160), ("ax", 144), ("cx", 152), ("r11", 64) })
            {
                Asm($"mov rax, [rdx+{off}]"); Save($"sig.{f}", "rax");
            }
        }
        return Asm("jmp finish");
    }

    /// <summary>An rt_sigreturn trampoline at <paramref name="label"/>, for handlers that return.</summary>
    public ProbeBuilder Restorer(string label = "restorer") =>
        Asm($"{label}:").Asm($"mov eax, {(Bitness == 32 ? 173 : 15)}").Asm(Bitness == 32 ? "int 0x80" : "syscall").Asm("hlt");

    /// <summary>The probe writes raw bytes (a vDSO dump) instead of slots: the body sets up write itself.</summary>
    public ProbeBuilder RawOutput()
    {
        _raw = true;
        return this;
    }

    private void Prologue()
    {
        Asm("_start:");
        SaveAll("exec");
        SaveSegments("exec");
        Asm("push 0x202");
        Asm(Bitness == 32 ? "popfd" : "popfq");
        string sp = Hw("sp"), si = Hw("si"), ax = Hw("ax"), w = (Bitness / 8).ToString(CultureInfo.InvariantCulture);
        // argc, argv[argc], NULL, envp..., NULL, then (type, value) pairs up to AT_NULL.
        Asm($"mov {si}, {sp}");
        Asm($"mov {ax}, [{si}]");
        Asm($"lea {si}, [{si}+{ax}*{w}+{2 * (Bitness / 8)}]");
        Asm("env_loop:");
        Asm($"mov {ax}, [{si}]");
        Asm($"add {si}, {w}");
        Asm($"test {ax}, {ax}");
        Asm("jnz env_loop");
        Asm("aux_loop:");
        Asm($"mov {ax}, [{si}]");
        Asm($"test {ax}, {ax}");
        Asm("jz aux_done");
        Asm($"cmp {ax}, 32");
        Asm("jne aux_not_sysinfo");
        Asm($"mov {ax}, [{si}+{w}]");
        Save("aux.sysinfo", ax);
        Asm("jmp aux_next");
        Asm("aux_not_sysinfo:");
        Asm($"cmp {ax}, 33");
        Asm("jne aux_next");
        Asm($"mov {ax}, [{si}+{w}]");
        Save("aux.vdso", ax);
        Asm("aux_next:");
        Asm($"add {si}, {2 * (Bitness / 8)}");
        Asm("jmp aux_loop");
        Asm("aux_done:");
        Slot("phase");
    }

    private void Epilogue()
    {
        Asm("finish:");
        Asm("push 0x202");
        Asm(Bitness == 32 ? "popfd" : "popfq");
        if (!_raw) Sys(Bitness == 32 ? 4 : 1, 1, (long)DataAddress, 8L * _slots.Count);
        Sys(Bitness == 32 ? 252 : 231, 0);
        Asm("hlt");
    }

    /// <summary>Assembles the probe (twice: once to find where the labels land, once with their addresses filled in).</summary>
    public ProbeProgram Build()
    {
        // Slots named only in the text ({slot:x}) are allocated before finish decides how much to write.
        foreach (var line in _lines)
            for (int i = line.IndexOf("{slot:", StringComparison.Ordinal); i >= 0; i = line.IndexOf("{slot:", i + 1, StringComparison.Ordinal))
                Slot(line[(i + 6)..line.IndexOf('}', i)]);
        Epilogue();
        ulong code = TextAddress + ElfExecutableWriter.CodeOffset;
        // Placeholder addresses of the same magnitude keep every encoding the same size between the passes.
        var (_, labels) = IntelSyntax.AssembleWithLabels(Substitute(_ => code), Bitness, code);
        var (bytes, final) = IntelSyntax.AssembleWithLabels(Substitute(l => labels.TryGetValue(l, out var a) ? a
            : throw new InvalidOperationException($"probe '{_name}' refers to a label '{l}' it does not define")), Bitness, code);
        foreach (var (name, at) in labels)
            if (final[name] != at) throw new InvalidOperationException($"probe '{_name}': label {name} moved between passes");
        return new ProbeProgram
        {
            Name = _name,
            Bitness = Bitness,
            Elf = ElfExecutableWriter.Write(Bitness, TextAddress, bytes, final["_start"], DataAddress, [], DataSize),
            TextAddress = TextAddress,
            DataAddress = DataAddress,
            Entry = final["_start"],
            Labels = final,
            Slots = _slots.ToArray(),
            StopsForTracer = _stops,
            RawOutput = _raw,
        };
    }

    private IEnumerable<string> Substitute(Func<string, ulong> label)
    {
        foreach (var line in _lines)
        {
            string s = line;
            int i;
            while ((i = s.IndexOf("{label:", StringComparison.Ordinal)) >= 0)
            {
                int end = s.IndexOf('}', i);
                s = s[..i] + $"0x{label(s[(i + 7)..end]):x}" + s[(end + 1)..];
            }
            while ((i = s.IndexOf("{slot:", StringComparison.Ordinal)) >= 0)
            {
                int end = s.IndexOf('}', i);
                s = s[..i] + $"0x{Slot(s[(i + 6)..end]):x}" + s[(end + 1)..];
            }
            yield return s;
        }
    }
}
