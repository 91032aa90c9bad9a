using SyscallTools.Core.Cpu;
using SyscallTools.Core.Elf;
using SyscallTools.Core.Elf.Cfi;
using SyscallTools.Core.Linux.Vdso;

namespace SyscallTools.Core.Linux;

/// <summary>Checking the vDSO's CFI at every instruction of a system call (tools/testing/selftests/x86/unwind_vdso.c).</summary>
public sealed partial class LinuxMachine
{
    /// <summary>
    /// Calls __kernel_vsyscall with <paramref name="number"/> in eax and <paramref name="arguments"/> (default: the
    /// sentinels) in ebx, ecx, edx, esi, edi, ebp, one instruction at a time. At every user instruction inside the vDSO
    /// it unwinds one frame with the image's .eh_frame and compares with the truth: the CFA is the caller's esp, the
    /// return address the one its CALL pushed, ebx/esi/edi/ebp (callee-saved) and ecx/edx where the CFI has a rule
    /// for them must be the caller's values, eax the number or the return value. Kernel instructions are run through.
    /// </summary>
    /// <exception cref="InvalidOperationException">No 32-bit vDSO, or the task has exited.</exception>
    /// <exception cref="ElfFormatException">The image's .eh_frame is missing or malformed.</exception>
    public VdsoUnwindReport CheckVdsoUnwind(long number = 20, IReadOnlyList<uint>? arguments = null, long budget = 1_000_000)
    {
        if (Task.Exited) throw new InvalidOperationException("The task has already exited; make a new machine.");
        if (Task.Bitness != 32 || KernelVsyscall == 0 || Vdso is null)
            throw new InvalidOperationException("Only a 32-bit task with a vDSO has __kernel_vsyscall to unwind through.");
        if (arguments is { Count: > 6 }) throw new ArgumentException("A system call takes at most six arguments.", nameof(arguments));
        AbandonKernelPath();
        ulong vdsoBase = Task.VdsoBase, vdsoEnd = vdsoBase + (ulong)Vdso.MappedSize;
        var frame = Vdso.ReadEhFrame(vdsoBase);

        ulong site = UserCodeAddress;
        uint returnAddress = (uint)site + 5;
        var code = new byte[] { 0xE8, 0, 0, 0, 0, 0x90, 0x0F, 0x0B };   // call __kernel_vsyscall; nop; ud2
        BitConverter.GetBytes((uint)(KernelVsyscall - returnAddress)).CopyTo(code, 1);
        PlaceUserCode(site, code);

        string[] argRegs = ["bx", "cx", "dx", "si", "di", "bp"];
        var caller = new uint[8];
        foreach (var r in new[] { "bx", "cx", "dx", "si", "di", "bp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" })
            Cpu[GprOf(r)] = Sentinel(r, 32);
        for (int i = 0; i < 6; i++)
            Cpu[GprOf(argRegs[i])] = arguments is not null && i < arguments.Count ? arguments[i] : (uint)Sentinel(argRegs[i], 32);
        Cpu[Gpr.Rax] = (uint)number;
        Cpu[Gpr.Rsp] = InitialStackPointer - 0x100;
        Cpu.Rip = site;
        for (int r = 0; r < 8; r++) caller[r] = (uint)Cpu[DwarfGpr(r)];
        uint expectedCfa = caller[Dwarf.Esp];

        var raw = new List<(ulong Ip, uint[] Regs, long Kernel)>();
        Current = new KernelCallRecord();
        var observer = new SyscallObserver(this, false) { ResetPerEntry = true };
        Cpu.Observer = observer;
        string outcome = "returned";
        bool completed = false;
        long spent = 0;
        try
        {
            var first = Cpu.Run(1);                                         // the caller's CALL
            spent++;
            if (first.Reason is not (StopReason.BudgetExhausted or StopReason.Stopped)) outcome = first.ToString();
            while (outcome == "returned" && spent < budget)
            {
                if (Task.Exited) { outcome = "the task exited or was killed"; break; }
                if (Cpu.Cpl == 3 && Cpu.Rip == returnAddress) { completed = true; break; }
                if (Cpu.Cpl != 3 || Cpu.Rip < vdsoBase || Cpu.Rip >= vdsoEnd)
                {
                    outcome = $"left the vDSO for 0x{Cpu.Rip:x} ({Symbolize(Cpu.Rip) ?? "?"}) instead of returning to 0x{returnAddress:x}";
                    break;
                }
                var regs = new uint[9];
                for (int r = 0; r < 8; r++) regs[r] = (uint)Cpu[DwarfGpr(r)];
                regs[Dwarf.Eip] = (uint)Cpu.Rip;
                var run = Cpu.Run(1);
                spent++;
                long kernel = 0;
                while (run.Reason is StopReason.BudgetExhausted && Cpu.Cpl != 3 && !Task.Exited && spent < budget)
                {
                    run = Cpu.Run(1);
                    spent++; kernel++;
                }
                raw.Add((regs[Dwarf.Eip], regs, kernel));
                if (run.Reason is not (StopReason.BudgetExhausted or StopReason.Stopped)) { outcome = run.ToString(); break; }
            }
            if (!completed && outcome == "returned") outcome = $"the budget of {budget} instructions ran out";
        }
        finally
        {
            Cpu.Observer = null;
            observer.Finish();
        }

        uint returnValue = (uint)Cpu[Gpr.Rax];
        var steps = new List<VdsoUnwindStep>();
        foreach (var (ip, regs, kernel) in raw)
            steps.Add(UnwindStep(frame, steps.Count + 1, ip, regs, caller, expectedCfa, returnAddress, (uint)number, returnValue, kernel));
        return new VdsoUnwindReport(steps, completed, completed ? "returned" : outcome, returnValue);
    }

    private VdsoUnwindStep UnwindStep(EhFrame frame, int step, ulong ip, uint[] regs, uint[] caller, uint expectedCfa,
        uint returnAddress, uint number, uint returnValue, long kernel)
    {
        string disassembly = Cpu.Disassemble(ip, 32) ?? "?";
        uint? Read(uint a)
        {
            Span<byte> b = stackalloc byte[4];
            return Memory.TryReadBytes(a, b) ? BitConverter.ToUInt32(b) : null;
        }
        UnwindResult u;
        try { u = CfiUnwinder.Unwind(frame, ip, regs, Read); }
        catch (CfiUnwindException e)
        {
            return new VdsoUnwindStep
            {
                Step = step, Address = ip, Symbol = Symbolize(ip), Disassembly = disassembly, ExpectedCfa = expectedCfa,
                ExpectedReturnAddress = returnAddress, KernelInstructions = kernel, Error = e.Message, Passed = false,
                CfiRow = frame.RowAt(ip)?.ToString(),
            };
        }
        var checks = new List<VdsoRegisterCheck>();
        foreach (int r in new[] { Dwarf.Eax, Dwarf.Ecx, Dwarf.Edx, Dwarf.Ebx, Dwarf.Esi, Dwarf.Edi, Dwarf.Ebp })
        {
            var rule = u.Row.Rule(r);
            uint? got = u[r];
            bool check = r is Dwarf.Ebx or Dwarf.Esi or Dwarf.Edi or Dwarf.Ebp or Dwarf.Eax || u.Row.Registers.ContainsKey(r);
            bool ok = r == Dwarf.Eax ? got == number || got == returnValue : got == caller[r];
            checks.Add(new VdsoRegisterCheck(Dwarf.RegisterName(r), got, r == Dwarf.Eax ? number : caller[r], check, !check || ok, rule.ToString()));
        }
        bool passed = u.Cfa == expectedCfa && u.ReturnAddress == returnAddress && checks.All(c => c.Passed);
        return new VdsoUnwindStep
        {
            Step = step, Address = ip, Symbol = Symbolize(ip), Disassembly = disassembly, CfiRow = u.Row.ToString(),
            Cfa = u.Cfa, ExpectedCfa = expectedCfa, ReturnAddress = u.ReturnAddress, ExpectedReturnAddress = returnAddress,
            Registers = checks, KernelInstructions = kernel, Passed = passed,
        };
    }

    private static Gpr DwarfGpr(int r) => r switch
    {
        Dwarf.Eax => Gpr.Rax, Dwarf.Ecx => Gpr.Rcx, Dwarf.Edx => Gpr.Rdx, Dwarf.Ebx => Gpr.Rbx,
        Dwarf.Esp => Gpr.Rsp, Dwarf.Ebp => Gpr.Rbp, Dwarf.Esi => Gpr.Rsi, _ => Gpr.Rdi,
    };
}
