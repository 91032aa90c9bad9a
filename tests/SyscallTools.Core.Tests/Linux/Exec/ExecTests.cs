using SyscallTools.Core.Cpu;
using SyscallTools.Core.Elf;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Exec;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Memory;
using SyscallTools.Core.Tests.Support;
using Xunit;

namespace SyscallTools.Core.Tests.LinuxTests.Exec;

/// <summary>What exec refuses (load_elf_binary's checks and the model's limits) and what it sets up (set_brk, the
/// segments' protections, bss, AT_PHDR, ELF_PLAT_INIT).</summary>
public class ExecTests
{
    private static LinuxMachine M(int bits = 32) => new(new Linux618(), CpuProfile.AmdZen3, 64, bits);

    /// <summary>A minimal static program (the host probes' writer): mov eax, 1 / int 0x80 with ebx = 7 → exit(7).</summary>
    private static byte[] Tiny(int bits)
    {
        ulong text = bits == 32 ? 0x0804_8000UL : 0x40_0000UL;
        byte[] code = [0xBB, 7, 0, 0, 0, 0xB8, 1, 0, 0, 0, 0xCD, 0x80];
        return ElfExecutableWriter.Write(bits, text, code, text + ElfExecutableWriter.CodeOffset, text + 0x10000, [1, 2, 3], 0x3000);
    }

    private static ExecRequest Request(byte[] image) => new() { Image = image, Path = "/t", Argv = ["/t"] };

    private static ExecRefusal Refused(LinuxMachine m, byte[] image) =>
        Assert.Throws<ExecFormatException>(() => m.Exec(Request(image))).Refusal;

    [Fact]
    public void A_tiny_static_program_runs_and_exits_with_its_status()
    {
        var m = M();
        m.Exec(Request(Tiny(32)));
        var r = m.RunProcess(10_000);
        Assert.Equal(7, r.ExitStatus);
        Assert.Equal("exit", Assert.Single(r.Syscalls).Name);
    }

    [Fact]
    public void Refusals_name_the_reason()
    {
        var m = M();
        var image = Tiny(32);
        Assert.Equal(ExecRefusal.Malformed, Refused(m, image[..40]));                 // truncated headers
        Assert.Equal(ExecRefusal.Malformed, Refused(m, "#!/bin/sh\n"u8.ToArray()));
        var arm = (byte[])image.Clone();
        arm[18] = 40;                                                                  // e_machine = EM_ARM
        Assert.Equal(ExecRefusal.WrongMachine, Refused(m, arm));
        var rel = (byte[])image.Clone();
        rel[16] = 1;                                                                   // e_type = ET_REL
        Assert.Equal(ExecRefusal.NotExecutable, Refused(m, rel));
        var dynamic = (byte[])image.Clone();
        int phoff = BitConverter.ToInt32(image, 28);
        BitConverter.TryWriteBytes(dynamic.AsSpan(phoff + 32), 3u);                    // second program header -> PT_INTERP
        Assert.Equal(ExecRefusal.Dynamic, Refused(m, dynamic));
        Assert.Equal(ExecRefusal.WrongBitness, Refused(m, Tiny(64)));
        Assert.Equal(ExecRefusal.WrongBitness, Refused(M(64), image));
        Assert.Equal(ExecRefusal.ArgumentsTooLong, Assert.Throws<ExecFormatException>(() =>
            m.Exec(Request(image) with { Argv = ["/t", new string('a', 300_000)] })).Refusal);
        var huge = (byte[])image.Clone();
        BitConverter.TryWriteBytes(huge.AsSpan(phoff + 32 + 20), 0x4000_0000u);         // data p_memsz = 1 GiB of bss
        Assert.Equal(ExecRefusal.BadLayout, Refused(m, huge));
        var overVdso = (byte[])image.Clone();
        BitConverter.TryWriteBytes(overVdso.AsSpan(phoff + 32 + 8), (uint)m.Task.VdsoBase);   // data p_vaddr on the vDSO
        BitConverter.TryWriteBytes(overVdso.AsSpan(phoff + 32 + 20), 0x1000u);
        ulong oldStack = m.InitialStackPointer;
        Assert.True(m.Memory.IsMapped(oldStack));
        Assert.Equal(ExecRefusal.BadLayout, Refused(m, overVdso));
        Assert.True(m.Memory.IsMapped(oldStack), "a refused fixed-address image unmapped the old stack");
        // A refused image changes nothing: the probe layout's text is still mapped.
        Assert.True(m.Memory.IsMapped(m.UserText));
        Assert.Null(m.ExecLayout);
    }

    [FixtureFact("32")]
    public void Segments_bss_brk_and_phdr_are_where_the_kernel_puts_them()
    {
        var path = Fixtures.PathOf("hello", "32")!;
        var image = File.ReadAllBytes(path);
        var elf = new ElfReader(image);
        var m = M();
        var layout = m.Exec(Request(image));
        // set_brk: the break starts at ELF_PAGEALIGN(highest p_vaddr + p_memsz).
        ulong end = elf.LoadSegments.Max(s => s.VirtualAddress + s.MemorySize);
        Assert.Equal((end + 0xFFF) & ~0xFFFUL, layout.BrkStart);
        foreach (var s in elf.LoadSegments)
        {
            var f = m.Memory.FlagsAt(s.VirtualAddress)!.Value;
            Assert.Equal(s.IsWritable, (f & PageFlags.Writable) != 0);
            Assert.Equal(!s.IsExecutable, (f & PageFlags.NoExecute) != 0);
            Assert.Equal(s.Bytes.ToArray(), m.Memory.ReadBytes(s.VirtualAddress, (int)s.FileSize));
            if (s.MemorySize > s.FileSize)                                              // bss is zero
                Assert.All(m.Memory.ReadBytes(s.VirtualAddress + s.FileSize, (int)(s.MemorySize - s.FileSize)), b => Assert.Equal(0, b));
        }
        // AT_PHDR points at the program headers as mapped (the text segment maps the file's first page).
        var phdrs = image.AsSpan((int)elf.Header.ProgramHeaderOffset, elf.Header.ProgramHeaderCount * elf.Header.ProgramHeaderEntrySize).ToArray();
        Assert.Equal(phdrs, m.Memory.ReadBytes(layout.Phdr, phdrs.Length));
        Assert.Equal(elf.Entry, m.Cpu.Rip);
        Assert.Equal(layout.Stack.Sp, m.Cpu[Gpr.Rsp]);
        foreach (var g in new[] { Gpr.Rax, Gpr.Rbx, Gpr.Rcx, Gpr.Rdx, Gpr.Rsi, Gpr.Rdi, Gpr.Rbp })
            Assert.Equal(0UL, m.Cpu[g]);                                                // ELF_PLAT_INIT (edx: no DT_FINI)
        // The first brk(0) the program makes answers the break exec set.
        var r = m.RunProcess();
        Assert.Equal((long)layout.BrkStart, r.Syscalls.First(s => s.Name == "brk").Return);
    }

    [FixtureFact("32")]
    public void The_auxiliary_vector_carries_the_vdso_and_the_cpus_features()
    {
        var m = M();
        var layout = m.Exec(Request(File.ReadAllBytes(Fixtures.PathOf("hello", "32")!)));
        var aux = layout.Stack.Auxv.ToDictionary(a => a.Key, a => a.Value);
        Assert.Equal(m.KernelVsyscall, aux[AuxVector.AT_SYSINFO]);
        Assert.Equal(m.Task.VdsoBase, aux[AuxVector.AT_SYSINFO_EHDR]);
        Assert.Equal(CpuProfile.AmdZen3.Cpuid(1, 0, CpuMode.Long64).Edx, aux[AuxVector.AT_HWCAP]);
        Assert.Equal(100UL, aux[AuxVector.AT_CLKTCK]);
        Assert.Equal(32UL, aux[AuxVector.AT_PHENT]);                                 // sizeof(Elf32_Phdr)
        Assert.Equal(0UL, aux[AuxVector.AT_BASE]);
        Assert.Equal("i686", System.Text.Encoding.ASCII.GetString(m.Memory.ReadBytes(aux[AuxVector.AT_PLATFORM], 4)));
        Assert.Equal(AuxVector.AT_NULL, layout.Stack.Auxv[^1].Key);
        // 32-bit tasks on a 64-bit kernel start just below 4 GiB (IA32_PAGE_OFFSET 0xFFFFe000).
        Assert.Equal(0xFFFF_E000UL, layout.StackTop);
    }

    [FixtureFact("32")]
    public void A_system_call_made_into_a_running_program_leaves_its_text_alone()
    {
        // Invoke-Syscall places its call site in the task; after exec that must not be inside the program's text.
        var m = M();
        var layout = m.Exec(Request(File.ReadAllBytes(Fixtures.PathOf("hello", "32")!)));
        var elf = new SyscallTools.Core.Elf.ElfReader(File.ReadAllBytes(Fixtures.PathOf("hello", "32")!));
        var text = elf.LoadSegments.First();
        byte[] before = m.Memory.ReadBytes(text.VirtualAddress, (int)text.FileSize);
        var partial = m.RunProcess(budget: 1_000);
        Assert.False(partial.Exited);
        var r = m.InvokeSyscall(20);
        Assert.Equal(4242, r.Return);
        Assert.Equal(before, m.Memory.ReadBytes(text.VirtualAddress, (int)text.FileSize));
        foreach (var seg in elf.LoadSegments)
            Assert.False(m.UserCodeAddress + 0x8000 > seg.VirtualAddress && m.UserCodeAddress < seg.VirtualAddress + seg.MemorySize,
                $"the call site at 0x{m.UserCodeAddress:x} overlaps the segment at 0x{seg.VirtualAddress:x}");
    }

    [FixtureFact("64pie")]
    public void A_static_pie_is_placed_in_the_mmap_area_and_relocates_itself()
    {
        var m = M(64);
        var layout = m.Exec(Request(File.ReadAllBytes(Fixtures.PathOf("hello", "64pie")!)));
        Assert.NotEqual(0UL, layout.LoadBias);
        Assert.Equal(0UL, layout.LoadBias & 0xFFF);
        Assert.Equal(layout.Entry, layout.Stack.Auxv.First(a => a.Key == AuxVector.AT_ENTRY).Value);
        var r = m.RunProcess();
        Assert.Equal(0, r.ExitStatus);
        Assert.StartsWith("hello, world\n", r.Stdout);
    }

    [FixtureFact("64")]
    public void A_run_keeps_a_bounded_record_and_counts_the_rest()
    {
        var image = File.ReadAllBytes(Fixtures.PathOf("syscall_loop", "64")!);
        var whole = M(64);
        whole.Exec(Request(image));
        var all = whole.RunProcess();
        var m = M(64);
        m.Exec(Request(image));
        var r = m.RunProcess(100_000_000, maxRecorded: 20);
        Assert.Equal(0, r.ExitStatus);
        Assert.StartsWith("100 of 100 agree", r.Stdout);                      // the run itself is whole
        Assert.Equal(20, r.Syscalls.Count);
        Assert.True(all.Syscalls.Count > 100);                                 // the loop alone makes 100 calls
        Assert.Equal(all.KernelEntries.Count, r.KernelEntries.Count + r.UnrecordedEntries);
        Assert.Contains(all.Syscalls, s => s.Number == 100000 && s.Errno == "ENOSYS");   // syscall(100000): the entry's own -ENOSYS
        Assert.Equal(all.Syscalls.Take(20).Select(s => s.Name), r.Syscalls.Select(s => s.Name));
    }
}
