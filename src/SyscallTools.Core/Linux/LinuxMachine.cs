using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux.Boot;
using SyscallTools.Core.Linux.Entry;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Linux.Syscalls;
using SyscallTools.Core.Linux.Vdso;
using SyscallTools.Core.Memory;

namespace SyscallTools.Core.Linux;

/// <summary>
/// A booted machine: one CPU, a kernel of the chosen model and bitness, and one user task. The entry stubs are
/// x86 code the CPU runs; the kernel's C functions are C# methods bound to addresses in kernel text
/// (LinuxMachine.CFunctions.cs); pt_regs lives on the emulated kernel stack.
/// </summary>
public sealed partial class LinuxMachine
{
    public LinuxMachine(KernelModel model, CpuProfile profile, int kernelBits = 64, int taskBits = 32, bool vdso = true)
    {
        MapVdso = vdso;
        if (kernelBits is not (32 or 64)) throw new ArgumentOutOfRangeException(nameof(kernelBits), "A kernel is 32- or 64-bit.");
        if (taskBits is not (32 or 64)) throw new ArgumentOutOfRangeException(nameof(taskBits), "A task is 32- or 64-bit.");
        if (kernelBits == 32 && taskBits == 64) throw new ArgumentException("A 32-bit kernel cannot run a 64-bit task.", nameof(taskBits));
        Model = model;
        KernelBits = kernelBits;
        Layout = KernelLayout.For(kernelBits);
        Memory = new AddressSpace();
        Cpu = new Cpu.Cpu(profile, Memory);
        Task = LinuxTask.Create(taskBits);
        Tracer = new Ptrace.Tracer(this);
        UserMemory = new UserMemory(Memory, () => TaskSize);
        Boot();
    }

    /// <summary>
    /// TASK_SIZE: the end of the task's user address space. For a 32-bit task on a 64-bit kernel it is IA32_PAGE_OFFSET,
    /// 0xFFFFE000 (page_64_types.h: the last two pages of the 4 GiB stay unmapped; 0xc0000000 only under the
    /// ADDR_LIMIT_3GB personality, not modelled); TASK_SIZE_MAX for a 64-bit task; PAGE_OFFSET 0xc0000000 on a 32-bit
    /// kernel. Nothing a task asks for reaches past it.
    /// </summary>
    public ulong TaskSize => KernelBits == 64 ? (Task.Bitness == 32 ? Ia32PageOffset : KernelModel.TaskSizeMax) : 0xC000_0000UL;

    /// <summary>IA32_PAGE_OFFSET without ADDR_LIMIT_3GB.</summary>
    public const ulong Ia32PageOffset = 0xFFFF_E000;

    /// <summary>False models booting with vdso32=0: 32-bit tasks get no vDSO (and no AT_SYSINFO).</summary>
    public bool MapVdso { get; }

    public KernelModel Model { get; }
    public int KernelBits { get; }
    public KernelLayout Layout { get; }
    public AddressSpace Memory { get; }
    public Cpu.Cpu Cpu { get; }
    public LinuxTask Task { get; }
    public UserMemory UserMemory { get; }
    public SignalState SignalState { get; } = new();

    /// <summary>The task's ptrace tracer (attach by setting <see cref="Ptrace.Tracer.OnStop"/>).</summary>
    public Ptrace.Tracer Tracer { get; }
    public StubImage Stubs { get; private set; } = null!;
    public VdsoImage? Vdso { get; private set; }

    /// <summary>CPU features the kernel derives at boot (the synthetic X86_FEATURE_SYSENTER32/SYSCALL32 and SEP).</summary>
    public IReadOnlySet<string> Features { get; private set; } = new HashSet<string>();

    public SyscallTable SyscallTable => SyscallTable.For(Task.Bitness == 32 ? SyscallAbi.I386 : SyscallAbi.X86_64);

    /// <summary>The landing pad of the mapped vDSO (vdso base + sym_int80_landing_pad), or 0 without one.</summary>
    public ulong LandingPad => Task.VdsoBase + (ulong)(Vdso?.LandingPad ?? 0);

    public ulong KernelVsyscall => Vdso is null || Task.VdsoBase == 0 ? 0 : Task.VdsoBase + (ulong)Vdso.KernelVsyscall;

    /// <summary>Where pt_regs sits for a syscall from user mode: at the top of the kernel stack.</summary>
    public ulong PtRegsAddress => Layout.StackTop - (ulong)(KernelBits == 64 ? PtRegs.Size64 : PtRegs.Size32);
    public PtRegs PtRegs => new(Memory, PtRegsAddress, KernelBits);

    /// <summary>User FS/GS bases (arch_prctl) and the three TLS descriptors (set_thread_area).</summary>
    public ulong UserFsBase { get; internal set; }
    public ulong UserGsBase { get; internal set; }
    public uint[] TlsBase { get; } = new uint[3];

    // ---- symbols ----
    private readonly Dictionary<ulong, string> _symbols = new();
    public IReadOnlyDictionary<ulong, string> Symbols => _symbols;

    /// <summary>symbol+offset for an address in kernel text, the C functions or the vDSO.</summary>
    public string? Symbolize(ulong address)
    {
        // The nearest symbol at or below the address, within 1 KiB: a binary search over the symbols sorted by address
        // (re-sorted when they change; a trace symbolizes every instruction, and there are a thousand syscall stubs).
        if (_sortedSymbolsFor != _symbolEdits)
        {
            _sortedAt = _symbols.Keys.Order().ToArray();
            _sortedName = _sortedAt.Select(a => _symbols[a]).ToArray();
            _sortedSymbolsFor = _symbolEdits;
        }
        int i = Array.BinarySearch(_sortedAt, address);
        if (i < 0) i = ~i - 1;
        if (i < 0 || address - _sortedAt[i] >= 0x400) return null;
        ulong at = _sortedAt[i];
        return address == at ? _sortedName[i] : $"{_sortedName[i]}+0x{address - at:x}";
    }

    private ulong[] _sortedAt = [];
    private string[] _sortedName = [];
    private long _sortedSymbolsFor = -1, _symbolEdits;

    /// <summary>Names an address (or renames it): every change to the symbol table goes through here.</summary>
    internal void SetSymbol(ulong at, string name)
    {
        _symbols[at] = name;
        _symbolEdits++;
    }

    internal void RemoveSymbol(ulong at)
    {
        if (_symbols.Remove(at)) _symbolEdits++;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(int, EntryGeneration, ulong, ulong, int), StubImage> StubCache = new();

    private void Boot()
    {
        Features = DeriveFeatures();
        _hasSep = Features.Contains("X86_FEATURE_SEP");
        BindCFunctions();
        // The entry code depends only on the kernel's bitness, the model's generation, the layout and the C functions'
        // addresses (bound in a fixed order): assembled once per combination and shared, it is immutable — half of a
        // boot's time was Iced assembling the same stubs again.
        Stubs = StubCache.GetOrAdd((KernelBits, Model.Generation, Layout.Text, Layout.Functions, _functions.Count),
            _ => KernelBits == 64 ? Stubs64.Build(Layout, Model.Generation, Function) : Stubs32.Build(Layout, Model.Generation, Function));
        Memory.Map(Layout.Text, (ulong)((Stubs.Bytes.Length + 0xFFF) & ~0xFFF), PageFlags.KernelCode);
        Memory.WriteBytes(Layout.Text, Stubs.Bytes);
        // Where two labels share an address, the one a reader expects (not an "__end_" marker) names it.
        foreach (var (name, at) in Stubs.Symbols.OrderBy(kv => kv.Key.StartsWith("__end_", StringComparison.Ordinal)))
            if (!_symbols.ContainsKey(at)) SetSymbol(at, name);
        Memory.Map(Layout.Data, KernelLayout.DataSize, PageFlags.KernelData);
        Memory.Map(Layout.StackBase, Layout.StackTop - Layout.StackBase + 0x100, PageFlags.KernelData);
        Memory.Map(Layout.DoubleFaultStackTop - 0x2000, 0x2000, PageFlags.KernelData);
        WriteSyscallTables();
        Task.PlaceThreadInfo(Memory, Layout.ThreadInfo + KernelLayout.TiFlags);
        if (KernelBits == 64) Boot64(); else Boot32();
        SetUpTask();
    }

    /// <summary>What the kernel's CPU setup derives from CPUID (intel.c/amd.c early_init, cpu/common.c).</summary>
    private HashSet<string> DeriveFeatures()
    {
        var f = new HashSet<string>();
        var (_, _, _, edx1) = Cpu.Profile.Cpuid(1, 0, CpuMode.Long64);
        if ((edx1 & CpuProfile.Leaf1EdxSep) != 0) f.Add("X86_FEATURE_SEP");
        if (KernelBits == 64)
        {
            if (Cpu.Profile.Vendor == CpuVendor.Intel) f.Add("X86_FEATURE_SYSENTER32");
            if (Cpu.Profile.Vendor == CpuVendor.Amd) f.Add("X86_FEATURE_SYSCALL32");
        }
        return f;
    }

    /// <summary>Finds room for an anonymous mapping below the mmap base.</summary>
    internal ulong FindFreeUserRange(ulong length, int bitness)
    {
        ulong top = bitness == 32 ? Layout.MmapTop32 : Layout.MmapTop64;
        if (length > top) return 0;
        for (ulong at = top - length; at > 0x1000_0000; at -= 0x1000)
        {
            bool free = true;
            // A mapped page p rules out every start above p - length: the next candidate is the range that ends at p
            // (the loop's step takes the last page off). Restarting just below p looped for ever when length > a page.
            for (ulong p = at; p < at + length; p += 0x1000)
                if (Memory.IsMapped(p)) { free = false; at = p < length ? 0x1000 : p - length + 0x1000; break; }
            if (free) return at;
        }
        return 0;
    }
}
