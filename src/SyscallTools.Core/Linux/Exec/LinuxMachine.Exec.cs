using SyscallTools.Core.Cpu;
using SyscallTools.Core.Elf;
using SyscallTools.Core.Linux.Exec;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Memory;

namespace SyscallTools.Core.Linux;

/// <summary>
/// execve of a static ELF program (fs/binfmt_elf.c load_elf_binary): the old user mappings go (the vDSO stays where
/// the model maps it), the PT_LOAD segments are mapped with their protections, bss is zeroed, the break starts after the
/// highest segment, the stack is built as create_elf_tables builds it, and the registers are what ELF_PLAT_INIT and
/// start_thread leave. There is no address-space randomization (as under ADDR_NO_RANDOMIZE), so a run is repeatable.
/// </summary>
public sealed partial class LinuxMachine
{
    /// <summary>How much stack is mapped below STACK_TOP. The kernel grows the stack on demand up to RLIMIT_STACK; the
    /// model maps it up front and does not grow it.</summary>
    public const ulong ExecStackSize = 1UL << 20;

    /// <summary>What the last exec set up, or null before one.</summary>
    public ExecLayout? ExecLayout { get; private set; }

    /// <summary>Loads <paramref name="request"/>'s image into the task, replacing its user mappings. Throws
    /// <see cref="ExecFormatException"/> for an image the kernel would refuse or the model cannot run.</summary>
    public ExecLayout Exec(ExecRequest request)
    {
        if (Task.Exited) throw new InvalidOperationException("The task has already exited; make a new machine.");
        var elf = CheckImage(request.Image);
        CheckSizes(elf, request);
        ulong vdsoLo = Task.VdsoBase, vdsoHi = Task.VdsoBase == 0 ? 0 : Task.VdsoBase + (ulong)Vdso!.Bytes.Length;
        // A fixed-address image's segments are checked before anything changes (a refusal leaves the machine as it
        // was); a static PIE's place is known only after the old mappings are gone, as in the kernel.
        if (elf.Type == ElfType.ET_EXEC)
            foreach (var seg in elf.LoadSegments.Where(s => s.MemorySize != 0)) CheckSegmentPlace(seg, 0, vdsoLo, vdsoHi);
        AbandonKernelPath();
        bool is32 = Task.Bitness == 32;
        ulong stackTop = is32 ? (KernelBits == 64 ? 0xFFFF_E000UL : 0xC000_0000UL) : 0x7FFF_FFFF_F000UL;

        // flush_old_exec: the old mm is gone. The model keeps its vDSO mapping (and the kernel's own pages).
        foreach (var page in Memory.Pages.Select(p => p.Number << Page.Shift).Where(a => a < TaskSize && (a < vdsoLo || a >= vdsoHi)).ToList())
            Memory.Unmap(page, Page.Size);

        var loads = elf.LoadSegments.Where(s => s.MemorySize != 0).ToList();
        ulong firstPage = loads[0].VirtualAddress & ~Page.OffsetMask;
        ulong loadBias = 0;
        if (elf.Type == ElfType.ET_DYN)
        {
            // A static PIE has no PT_INTERP: "loaders are loaded into the independently randomized mmap region (0
            // load_bias without MAP_FIXED)" — the first mapping goes where mmap puts total_mapping_size bytes.
            ulong total = loads.Max(s => s.VirtualAddress + s.MemorySize) - firstPage;
            ulong at = FindFreeUserRange((total + Page.OffsetMask) & ~Page.OffsetMask, Task.Bitness);
            if (at == 0) throw new ExecFormatException(ExecRefusal.BadLayout, $"There is no room for the 0x{total:x}-byte image in the mmap area.");
            loadBias = at - firstPage;
        }

        ulong phdr = 0, elfBrk = 0;
        foreach (var seg in loads)
        {
            ulong vaddr = seg.VirtualAddress + loadBias;
            CheckSegmentPlace(seg, loadBias, vdsoLo, vdsoHi);
            ulong pageStart = vaddr & ~Page.OffsetMask, end = (vaddr + seg.MemorySize + Page.OffsetMask) & ~Page.OffsetMask;
            // elf_map maps whole file pages: the bytes before p_vaddr in its first page come from the file too.
            ulong pageOff = vaddr & Page.OffsetMask;
            Memory.Map(pageStart, end - pageStart, PageFlags.UserData);
            ulong fileFrom = seg.Offset >= pageOff ? seg.Offset - pageOff : 0;
            ulong fileLen = Math.Min(seg.FileSize + (seg.Offset - fileFrom), (ulong)elf.Image.Length - fileFrom);
            Memory.WriteBytes(vaddr - (seg.Offset - fileFrom), elf.Image.Span.Slice((int)fileFrom, (int)fileLen));
            // padzero / the anonymous bss pages: everything from p_filesz to the end of the last page is zero.
            ulong zeroFrom = vaddr + seg.FileSize;
            if (end > zeroFrom) Memory.WriteBytes(zeroFrom, new byte[end - zeroFrom]);
            Memory.Protect(pageStart, end - pageStart, ProtectionOf(seg));
            if (seg.Offset <= elf.Header.ProgramHeaderOffset && elf.Header.ProgramHeaderOffset < seg.Offset + seg.FileSize)
                phdr = elf.Header.ProgramHeaderOffset - seg.Offset + seg.VirtualAddress + loadBias;
            elfBrk = Math.Max(elfBrk, vaddr + seg.MemorySize);
        }

        // set_brk: "mm->start_brk = mm->brk = ELF_PAGEALIGN(end)".
        Task.BrkStart = Task.Brk = (elfBrk + Page.OffsetMask) & ~Page.OffsetMask;
        Memory.Map(stackTop - ExecStackSize, ExecStackSize, PageFlags.UserData);

        string fileName = request.Path;
        Task.ExecPath = fileName;
        var stack = InitialStack.Build(stackTop, is32 ? 4 : 8, KernelBits / 8, request.Argv, request.Envp, fileName,
            is32 ? "i686" : "x86_64", RandomBytes(16), AuxEntries(elf, loadBias, phdr));
        Memory.WriteBytes(stack.Base, stack.Bytes);

        // flush_thread / exec: no TLS descriptors, no FS/GS base, default signal dispositions.
        for (int i = 0; i < 3; i++)
        {
            TlsBase[i] = 0;
            Memory.WriteUInt64(Cpu.Gdtr.Base + (ulong)(8 * ((KernelBits == 64 ? 12 : 6) + i)), 0);
        }
        UserFsBase = UserGsBase = 0;
        SignalState.ResetForExec();
        StartThread(elf.Entry + loadBias, stack.Sp);
        // In user mode the user's bases are live (the kernel's per-CPU base waits in KERNEL_GS_BASE for SWAPGS).
        if (KernelBits == 64)
        {
            Cpu.WriteMsr(Msr.FsBase, 0);
            Cpu.WriteMsr(Msr.GsBase, 0);
        }
        InitialStackPointer = stack.Sp;
        // A place for Invoke-Syscall's and Invoke-EmuCode's code in the new address space, away from the program.
        _userCodeAddress = FindFreeUserRange(0x8000, Task.Bitness);
        Memory.Map(_userCodeAddress.Value, 0x8000, PageFlags.UserCode);
        return ExecLayout = new ExecLayout
        {
            LoadBias = loadBias, Entry = elf.Entry + loadBias, Phdr = phdr, BrkStart = Task.BrkStart, StackTop = stackTop, Stack = stack,
        };
    }

    /// <summary>
    /// Limits checked before the old image is dropped: argv and envp may take a quarter of the stack (the kernel allows
    /// a quarter of RLIMIT_STACK, then -E2BIG), and the image's pages plus the stack must fit the machine's memory limit
    /// (pages are allocated when mapped, so a huge bss would otherwise take host memory).
    /// </summary>
    private void CheckSizes(ElfReader elf, ExecRequest request)
    {
        int word = Task.Bitness / 8;
        long strings = request.Argv.Concat(request.Envp).Sum(a => (long)System.Text.Encoding.UTF8.GetByteCount(a) + 1 + word);
        if (strings + request.Path.Length > (long)ExecStackSize / 4)
            throw new ExecFormatException(ExecRefusal.ArgumentsTooLong,
                $"The arguments and environment take {strings} bytes; the model's {ExecStackSize >> 10} KiB stack takes at most {ExecStackSize / 4 >> 10} KiB of them (E2BIG).");
        ulong pages = 0;
        foreach (var seg in elf.LoadSegments.Where(x => x.MemorySize != 0))
        {
            ulong start = seg.VirtualAddress & ~Page.OffsetMask, end = seg.VirtualAddress + seg.MemorySize;
            pages += (end - start + Page.OffsetMask) / Page.Size;
        }
        if (pages * Page.Size + ExecStackSize > Syscalls.Handlers.MemoryCalls.MaxTaskMemory / 2)
            throw new ExecFormatException(ExecRefusal.BadLayout,
                $"The image needs {pages * Page.Size >> 20} MiB; the model gives a program at most {Syscalls.Handlers.MemoryCalls.MaxTaskMemory / 2 >> 20} MiB for its segments and stack.");
    }

    /// <summary>
    /// A segment's place: "BAD_ADDR(k) || p_filesz > p_memsz || p_memsz > TASK_SIZE || TASK_SIZE - p_memsz &lt; k" is
    /// -EINVAL; over the model's vDSO it cannot be mapped.
    /// </summary>
    private void CheckSegmentPlace(ElfSegment seg, ulong loadBias, ulong vdsoLo, ulong vdsoHi)
    {
        ulong vaddr = seg.VirtualAddress + loadBias;
        if (vaddr >= TaskSize || seg.MemorySize > TaskSize || TaskSize - seg.MemorySize < vaddr)
            throw new ExecFormatException(ExecRefusal.BadLayout,
                $"The segment at 0x{vaddr:x} (0x{seg.MemorySize:x} bytes) does not fit the {Task.Bitness}-bit task's address space (TASK_SIZE 0x{TaskSize:x}).");
        ulong pageStart = vaddr & ~Page.OffsetMask, end = (vaddr + seg.MemorySize + Page.OffsetMask) & ~Page.OffsetMask;
        if (vdsoHi != 0 && pageStart < vdsoHi && end > vdsoLo)
            throw new ExecFormatException(ExecRefusal.BadLayout, $"The segment at 0x{vaddr:x} overlaps the model's vDSO at 0x{vdsoLo:x}.");
    }

    /// <summary>make_prot: PF_W gives a writable mapping, no PF_X a non-executable one (x86 cannot refuse reads).</summary>
    private static PageFlags ProtectionOf(ElfSegment s) =>
        PageFlags.User | (s.IsWritable ? PageFlags.Writable : 0) | (s.IsExecutable ? 0 : PageFlags.NoExecute);

    /// <summary>The checks load_elf_binary (and our reader) make before anything of the old image is dropped.</summary>
    private ElfReader CheckImage(byte[] image)
    {
        ElfReader elf;
        try { elf = new ElfReader(image); }
        catch (ElfFormatException e) { throw new ExecFormatException(ExecRefusal.Malformed, $"Not a valid ELF executable: {e.Message}."); }
        bool is64 = elf.Class == ElfClass.ELFCLASS64;
        var machine = is64 ? ElfMachine.EM_X86_64 : ElfMachine.EM_386;
        if (elf.Machine != machine)
            throw new ExecFormatException(ExecRefusal.WrongMachine,
                $"e_machine is {(Enum.IsDefined(elf.Machine) ? elf.Machine.ToString() : ((ushort)elf.Machine).ToString())}; an x86 kernel runs EM_386 (ELF32) and EM_X86_64 (ELF64) programs.");
        if (elf.Type is not (ElfType.ET_EXEC or ElfType.ET_DYN))
            throw new ExecFormatException(ExecRefusal.NotExecutable, $"e_type is {elf.Type}: only executables (ET_EXEC) and static PIEs (ET_DYN) run.");
        if (elf.Segments.Any(s => s.Type == ElfSegmentType.PT_INTERP))
            throw new ExecFormatException(ExecRefusal.Dynamic,
                "The program is dynamically linked (it has PT_INTERP): the model has no dynamic loader or shared libraries. Link it with -static or -static-pie.");
        if (is64 != (Task.Bitness == 64))
            throw new ExecFormatException(ExecRefusal.WrongBitness,
                $"The program is {(is64 ? "64" : "32")}-bit (ELF{(is64 ? "64" : "32")}); the task is {Task.Bitness}-bit. Make the machine with -Bitness {(is64 ? 64 : 32)}.");
        if (!elf.LoadSegments.Any(s => s.MemorySize != 0))
            throw new ExecFormatException(ExecRefusal.BadLayout, "The image has no PT_LOAD segment to map.");
        return elf;
    }

    /// <summary>create_elf_tables' auxiliary vector, in the kernel's order, for this model's version and the task.</summary>
    private List<(ulong, ulong)> AuxEntries(ElfReader elf, ulong loadBias, ulong phdr)
    {
        bool modern = Model.Generation == EntryGeneration.Modern;
        var a = new List<(ulong, ulong)>();
        // ARCH_DLINFO_IA32: AT_SYSINFO and AT_SYSINFO_EHDR when a vDSO is mapped. The model maps no 64-bit vDSO, so a
        // 64-bit task gets no AT_SYSINFO_EHDR (as with vdso64=0). AT_MINSIGSTKSZ exists since 5.14.
        if (Task.Bitness == 32 && KernelVsyscall != 0)
        {
            a.Add((AuxVector.AT_SYSINFO, KernelVsyscall));
            a.Add((AuxVector.AT_SYSINFO_EHDR, Task.VdsoBase));
        }
        if (modern) a.Add((AuxVector.AT_MINSIGSTKSZ, (ulong)MinSigStackSize));
        // ELF_HWCAP: boot_cpu_data.x86_capability[CPUID_1_EDX].
        a.Add((AuxVector.AT_HWCAP, Cpu.Profile.Cpuid(1, 0, CpuMode.Long64).Edx));
        a.Add((AuxVector.AT_PAGESZ, Page.Size));
        a.Add((AuxVector.AT_CLKTCK, 100));                 // CLOCKS_PER_SEC (USER_HZ)
        a.Add((AuxVector.AT_PHDR, phdr));
        a.Add((AuxVector.AT_PHENT, (ulong)elf.Header.ProgramHeaderEntrySize));
        a.Add((AuxVector.AT_PHNUM, (ulong)elf.Header.ProgramHeaderCount));
        a.Add((AuxVector.AT_BASE, 0));                     // no interpreter
        a.Add((AuxVector.AT_FLAGS, 0));
        a.Add((AuxVector.AT_ENTRY, elf.Entry + loadBias));
        a.Add((AuxVector.AT_UID, (ulong)Task.Uid));
        a.Add((AuxVector.AT_EUID, (ulong)Task.Uid));
        a.Add((AuxVector.AT_GID, (ulong)Task.Gid));
        a.Add((AuxVector.AT_EGID, (ulong)Task.Gid));
        a.Add((AuxVector.AT_SECURE, 0));
        a.Add((AuxVector.AT_RANDOM, 0));                   // the address is filled in where the bytes land
        // ELF_HWCAP2 (4.11+): HWCAP2_FSGSBASE only when the CPU has FSGSBASE; no modelled profile does.
        if (modern) a.Add((AuxVector.AT_HWCAP2, 0));
        a.Add((AuxVector.AT_EXECFN, 0));
        a.Add((AuxVector.AT_PLATFORM, 0));
        // No AT_RSEQ_FEATURE_SIZE / AT_RSEQ_ALIGN: the model is a kernel without CONFIG_RSEQ (rseq returns -ENOSYS).
        a.Add((AuxVector.AT_NULL, 0));
        return a;
    }

    /// <summary>AT_MINSIGSTKSZ (get_sigframe_size): the model's rt_sigframe plus a 512-byte FXSAVE area, 64-byte aligned.</summary>
    private int MinSigStackSize => ((Task.Bitness == 32 ? SignalFrames.RtFrame32.Size : SignalFrames.RtFrame64.Size) + 512 + 63) & ~63;
}
