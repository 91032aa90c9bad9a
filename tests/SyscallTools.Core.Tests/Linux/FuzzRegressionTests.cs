using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Linux.Ptrace;
using Xunit;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>
/// One test per emulator bug the fuzzers (tests/fuzz) found, each named for what must hold; the comment on each says
/// which fuzzer found it and how it showed.
/// </summary>
public class FuzzRegressionTests
{
    private static readonly KernelModel[] Models = [new Linux42(), new Linux44(), new Linux618()];

    // ptregs-edit: a bad CS written at the exit stop made IRET fault; the kernel-mode #GP then ran the syscall-exit work
    // again (a second exit stop) with the #GP's kernel frame as "pt_regs" (cs = __KERNEL_CS).
    [Theory]
    [InlineData(64, 32)]
    [InlineData(64, 64)]
    [InlineData(32, 32)]
    public void ABadIretAfterAnExitStopEditGivesOneExitStopAndTheSignalInTheTasksOwnPtRegs(int kernelBits, int taskBits)
    {
        foreach (var model in Models)
        {
            var m = new LinuxMachine(model, CpuProfile.IntelSkylake, kernelBits, taskBits);
            var stops = new List<(PtraceStopKind Kind, ulong Address, ulong Cs)>();
            m.Tracer.OnStop = s =>
            {
                stops.Add((s.Kind, s.Regs.Address, s.Regs.Cs));
                if (s.Kind == PtraceStopKind.SyscallExit) s.Poke("cs", kernelBits == 64 ? Selectors.X64.UserDs : Selectors.X86.UserDs); // a data selector
            };
            var r = m.InvokeSyscall(taskBits == 64 ? 39 : 20, via: EntryMethod.Int80);
            Assert.Null(r.Oops);
            Assert.True(r.TaskExited, $"{model}: {r.Outcome}");
            Assert.Equal([PtraceStopKind.SyscallEntry, PtraceStopKind.SyscallExit, PtraceStopKind.SignalDelivery], stops.Select(s => s.Kind));
            Assert.All(stops, s => Assert.Equal(m.PtRegsAddress, s.Address));
            Assert.All(stops, s => Assert.Equal(3UL, s.Cs & 3));
            // 64-bit kernels: fixup_bad_iret and a user-mode #GP (SIGSEGV); 32-bit: iret_exc → do_iret_error (SIGILL).
            Assert.Equal(kernelBits == 64 ? "SIGSEGV" : "SIGILL", r.Signal);
        }
    }

    // ptregs-edit: with the signal suppressed at the delivery stop, a 32-bit kernel oopsed "signal delivery after a bad
    // IRET … is not modelled yet"; with a SIGSEGV handler installed a 64-bit kernel oopsed the same way.
    [Theory]
    [InlineData(64)]
    [InlineData(32)]
    public void TheTaskSurvivesABadIretWhenTheTracerSuppressesTheSignal(int kernelBits)
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3, kernelBits, 32);
        m.Tracer.OnStop = s =>
        {
            if (s.Kind == PtraceStopKind.SyscallExit) s.Poke("ss", kernelBits == 64 ? Selectors.X64.User32Cs : Selectors.X86.UserCs); // a code selector
            if (s.Kind == PtraceStopKind.SignalDelivery) { s.Poke("ss", kernelBits == 64 ? Selectors.X64.UserDs : Selectors.X86.UserDs); s.Signal = 0; }
        };
        var r = m.InvokeSyscall(20, via: EntryMethod.Int80);
        Assert.Null(r.Oops);
        Assert.False(r.TaskExited);
        Assert.True(r.Completed, r.Outcome);
        Assert.Equal(4242, r.Return);
        Assert.Equal(3, m.Cpu.Cpl);
    }

    [Fact]
    public void ASigsegvHandlerRunsAfterABadIretOnA64BitKernel()
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.IntelSkylake, 64, 64);
        ulong handler = m.UserCodeAddress + 0x1000;
        m.Memory.WriteBytes(handler, [0xF4]);                    // hlt in user mode: #GP, so the handler visibly ran
        m.SignalState.Actions[Signal.SIGSEGV] = new SignalAction(handler, SignalAction.SaRestorer, handler, 0);
        m.Tracer.OnStop = s => { if (s.Kind == PtraceStopKind.SyscallExit) s.Poke("cs", Selectors.X64.UserDs); };
        var r = m.InvokeSyscall(39, via: EntryMethod.Int80, budget: 10_000);
        Assert.Null(r.Oops);
        Assert.Contains("fixup_bad_iret", r.CFunctions);
        Assert.Equal(handler, r.Fault?.Rip);                      // the handler's hlt faulted: it was reached
    }

    // ptregs-edit: a single-step #DB from user mode arrives on an IST stack; the signal-delivery stop saw pt_regs there
    // instead of at the top of the task's stack (sync_regs was missing).
    [Fact]
    public void AUserModeDebugTrapIsHandledInTheTasksOwnPtRegs()
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3, 64, 64);
        var addresses = new List<ulong>();
        m.Tracer.OnStop = s => { if (s.Kind == PtraceStopKind.SignalDelivery) { addresses.Add(s.Regs.Address); s.Signal = 0; } };
        m.Tracer.SingleStep = true;
        m.InvokeSyscall(39);
        var r = m.RunUserCode([0x90, 0x90, 0x90]);
        Assert.Null(r.Oops);
        Assert.NotEmpty(addresses);
        Assert.All(addresses, a => Assert.Equal(m.PtRegsAddress, a));
    }

    // syscall: munmap(0xffffffff81000000, huge) walked 2^52 page numbers (a hang); munmap/mprotect/MAP_FIXED could reach
    // kernel text and stacks (a 32-bit kernel's above 0xc0000000), so the next entry oopsed.
    [Theory]
    [InlineData(64, 64, 11, 10, 9)]
    [InlineData(64, 32, 91, 125, 192)]
    [InlineData(32, 32, 91, 125, 192)]
    public void MemoryCallsCannotReachPastTaskSize(int kernelBits, int taskBits, long munmap, long mprotect, long mmap)
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.IntelSkylake, kernelBits, taskBits);
        ulong kernel = m.Layout.Text;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // A 32-bit task on a 64-bit kernel cannot even name the kernel's addresses: only the huge range applies there.
        bool reach = !(kernelBits == 64 && taskBits == 32);
        if (reach) Assert.Equal("EINVAL", m.InvokeSyscall(munmap, [kernel, 0x1000]).Errno);
        Assert.Equal("EINVAL", m.InvokeSyscall(munmap, [0x2000, ulong.MaxValue - 0xFFF]).Errno);   // (0xfffff000 for i386: still past TASK_SIZE)
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "munmap of a huge range must not walk it page by page");
        if (reach)
        {
            Assert.Equal("ENOMEM", m.InvokeSyscall(mprotect, [kernel, 0x1000, 7]).Errno);
            var r = m.InvokeSyscall(mmap, [kernel, 0x1000, 3, 0x32, unchecked((ulong)-1L), 0]);   // MAP_FIXED|MAP_ANONYMOUS|MAP_PRIVATE
            Assert.True(r.Errno is "ENOMEM" or "EINVAL", $"mmap over the kernel: {r.Return}");
        }
        var after = m.InvokeSyscall(taskBits == 64 ? 39 : 20);
        Assert.Null(after.Oops);
        Assert.Equal(4242, after.Return);
    }

    /// <summary>
    /// A 32-bit task on a 64-bit kernel ends at IA32_PAGE_OFFSET, 0xFFFFE000 (arch/x86/include/asm/page_64_types.h), not
    /// at 4 GiB: get_unmapped_area refuses MAP_FIXED past it ("if (addr > TASK_SIZE - len) return -ENOMEM"),
    /// do_vmi_munmap refuses a start past it (-EINVAL), and copy_from_user of its last pages fails (-EFAULT).
    /// </summary>
    [Fact]
    public void ACompatTaskEndsAtIa32PageOffset()
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3, 64, 32);
        Assert.Equal(0xFFFF_E000UL, m.TaskSize);
        ulong fixedAnon = 0x32;   // MAP_FIXED | MAP_ANONYMOUS | MAP_PRIVATE
        Assert.Equal("ENOMEM", m.InvokeSyscall(192, [0xFFFF_E000, 0x1000, 3, fixedAnon, unchecked((ulong)-1L), 0]).Errno);   // mmap2
        Assert.Equal(0xFFFF_D000u, (uint)m.InvokeSyscall(192, [0xFFFF_D000, 0x1000, 3, fixedAnon, unchecked((ulong)-1L), 0]).Return);   // EAX, read as a 32-bit address
        Assert.Equal("EINVAL", m.InvokeSyscall(91, [0xFFFF_F000, 0x1000]).Errno);                                         // munmap
        Assert.Equal(0, m.InvokeSyscall(91, [0xFFFF_D000, 0x1000]).Return);
    }

    [Fact]
    public void UnmappingAHugeRangeVisitsOnlyMappedPages()
    {
        var mem = new Memory.AddressSpace();
        mem.Map(0x1000, 0x3000, Memory.PageFlags.UserData);
        mem.Unmap(0, ulong.MaxValue);
        Assert.Equal(0, mem.PageCount);
        mem.Map(0x5000, 0x1000, Memory.PageFlags.UserData);
        Assert.False(mem.Protect(0x5000, ulong.MaxValue - 0x4000, Memory.PageFlags.UserCode));   // wraps: refused, no hang
    }

    // syscall: after pause() blocked (or a budget ran out inside the kernel) the CPU stayed in ring 0, and the next call
    // ran the task's code at CPL 0 (#PF at entry_SYSCALL_64 with the user's GS, #UD in kernel mode at a user address).
    [Theory]
    [InlineData(64, 64)]
    [InlineData(64, 32)]
    [InlineData(32, 32)]
    public void AfterARunLeftInTheKernelTheNextCallStartsInUserMode(int kernelBits, int taskBits)
    {
        foreach (var model in Models)
        {
            var m = new LinuxMachine(model, CpuProfile.IntelSkylake, kernelBits, taskBits);
            var blocked = m.InvokeSyscall(taskBits == 64 ? 34 : 29);                       // pause()
            Assert.False(blocked.Completed);
            var r = m.InvokeSyscall(taskBits == 64 ? 39 : 20);
            Assert.Null(r.Oops);
            Assert.Equal(4242, r.Return);
            var cut = m.InvokeSyscall(taskBits == 64 ? 39 : 20, budget: 12);               // out of budget inside the kernel
            Assert.NotEqual(3, m.Cpu.Cpl);
            Assert.False(cut.Completed);
            r = m.InvokeSyscall(taskBits == 64 ? 39 : 20);
            Assert.Null(r.Oops);
            Assert.Equal(4242, r.Return);
            Assert.Equal(3, m.Cpu.Cpl);
        }
    }

    // The tool writes its call site into the task's text like a debugger; if the task unmapped part of that area, the
    // write threw "Address … is not mapped" to the host instead of mapping the page back.
    [Fact]
    public void TheCodeAreaIsMappedAgainWhenTheTaskUnmappedPartOfIt()
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3);
        Assert.Equal(0, m.InvokeSyscall(91, [m.UserCodeAddress + 0x1000, 0x1000]).Return);   // munmap one page of it
        var r = m.RunUserCode(Enumerable.Repeat((byte)0x90, 0x1800).ToArray());
        Assert.Equal("ran to the end of the code", r.Outcome);
    }

    // user-code: a 32-bit task that loaded a null DS and then ran SYSENTER made entry_SYSENTER_32 #GP in ring 0 (it read
    // the per-CPU top of stack through the user's DS; the kernel reads it through SS).
    [Theory]
    [InlineData("linux-4.2")]
    [InlineData("linux-4.4")]
    [InlineData("linux-6.18")]
    public void Sysenter32WorksWithANullUserDs(string model)
    {
        var m = new LinuxMachine(KernelModel.Find(model)!, CpuProfile.AmdZen3, 32, 32);
        // xor eax,eax; mov ds,eax; mov eax,20; push ecx; push edx; push ebp; mov ebp,esp; sysenter
        byte[] code = [0x31, 0xC0, 0x8E, 0xD8, 0xB8, 0x14, 0, 0, 0, 0x51, 0x52, 0x55, 0x89, 0xE5, 0x0F, 0x34];
        var r = m.RunUserCode(code, budget: 10_000);
        Assert.Null(r.Oops);
        Assert.Contains(r.KernelEntries, e => e.Entry == EntryKind.Sysenter && e.Number == 20);
    }
}
