using Iced.Intel;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux.Boot;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Linux.Syscalls;
using static Iced.Intel.AssemblerRegisters;

namespace SyscallTools.Core.Linux.Entry;

/// <summary>
/// The entry and exit code of a 64-bit kernel, assembled with Iced and run by the emulated CPU: entry_SYSCALL_64,
/// entry_SYSCALL_compat, entry_SYSENTER_compat, the INT 0x80 entry, the exception entries, and the exits through
/// SYSRETQ, SYSRETL and IRETQ. Each generation emits what its kernel emits; the C functions they call are natives.
/// Left out on purpose: page-table isolation (CR3 switches), speculation mitigations, Xen PV and paravirt hooks.
/// </summary>
internal sealed class Stubs64
{
    private readonly StubAssembler _s = new(64);
    private readonly Assembler _a;
    private readonly KernelLayout _layout;
    private readonly EntryGeneration _gen;
    private readonly Func<string, ulong> _fn;

    private Stubs64(KernelLayout layout, EntryGeneration gen, Func<string, ulong> fn)
    {
        _a = _s.A;
        _layout = layout;
        _gen = gen;
        _fn = fn;
    }

    public static StubImage Build(KernelLayout layout, EntryGeneration gen, Func<string, ulong> fn)
    {
        var b = new Stubs64(layout, gen, fn);
        b.EmitSyscall64();
        b.EmitSyscallCompat();
        b.EmitSysenterCompat();
        b.EmitInt80();
        b.EmitExits();
        for (int v = 0; v < 32; v++) b.EmitException(v);
        return b._s.Assemble(layout.Text);
    }

    private AssemblerMemoryOperand PerCpu(int offset) => __qword_ptr.gs[offset];
    private AssemblerMemoryOperand TiFlags => __dword_ptr[(long)(_layout.ThreadInfo + KernelLayout.TiFlags)];
    private void Call(string function) => _a.call(_fn(function));

    /// <summary>PUSH_AND_CLEAR_REGS: the general registers in pt_regs order, ax replaced, then the registers cleared.</summary>
    private void PushAndClearRegs(bool axIsEnosys, bool cxFromRbp = false, bool zeroR8ToR11 = false)
    {
        _a.push(rdi);
        _a.push(rsi);
        _a.push(rdx);
        _a.push(cxFromRbp ? rbp : rcx);
        if (axIsEnosys) _a.push(-Errno.ENOSYS); else _a.push(rax);
        if (zeroR8ToR11)
        {
            // v4.4 compat entries store zeros here: 32-bit callers cannot see r8-r11, and they must not leak.
            for (int i = 0; i < 4; i++) _a.push(0);
        }
        else
        {
            _a.push(r8); _a.push(r9); _a.push(r10); _a.push(r11);
        }
        _a.push(rbx); _a.push(rbp); _a.push(r12); _a.push(r13); _a.push(r14); _a.push(r15);
        if (_gen == EntryGeneration.Modern)
        {
            // CLEAR_REGS: no user value stays live in a register the C code might speculate on.
            _a.xor(esi, esi); _a.xor(edx, edx); _a.xor(ecx, ecx);
            _a.xor(r8d, r8d); _a.xor(r9d, r9d); _a.xor(r10d, r10d); _a.xor(r11d, r11d);
            _a.xor(ebx, ebx); _a.xor(ebp, ebp);
            _a.xor(r12d, r12d); _a.xor(r13d, r13d); _a.xor(r14d, r14d); _a.xor(r15d, r15d);
        }
    }

    /// <summary>POP_REGS: the inverse, optionally leaving RDI on the stack.</summary>
    private void PopRegs(bool popRdi = true)
    {
        _a.pop(r15); _a.pop(r14); _a.pop(r13); _a.pop(r12); _a.pop(rbp); _a.pop(rbx);
        _a.pop(r11); _a.pop(r10); _a.pop(r9); _a.pop(r8); _a.pop(rax); _a.pop(rcx); _a.pop(rdx); _a.pop(rsi);
        if (popRdi) _a.pop(rdi);
    }

    // ---------------------------------------------------------------- native 64-bit SYSCALL
    private void EmitSyscall64()
    {
        _s.Here("entry_SYSCALL_64");
        _a.swapgs();
        _a.mov(PerCpu(KernelLayout.PerCpuRspScratch), rsp);
        _a.mov(rsp, PerCpu(KernelLayout.PerCpuTopOfStack));
        _a.push(Selectors.X64.UserDs);                     // pt_regs->ss
        _a.push(PerCpu(KernelLayout.PerCpuRspScratch));     // pt_regs->sp
        _a.push(r11);                                       // pt_regs->flags
        _a.push(Selectors.X64.UserCs);                      // pt_regs->cs
        _a.push(rcx);                                       // pt_regs->ip
        _s.Here("entry_SYSCALL_64_after_hwframe");
        _a.push(rax);                                       // pt_regs->orig_ax
        if (_gen == EntryGeneration.Modern)
        {
            PushAndClearRegs(axIsEnosys: true);
            _a.mov(rdi, rsp);
            _a.movsxd(rsi, eax);
            Call("do_syscall_64");
            // do_syscall_64 returns true for SYSRET, false for IRET.
            _a.test(al, al);
            _a.jz(_s.L("swapgs_restore_regs_and_return_to_usermode"));
            _a.jmp(_s.L("syscall_return_via_sysret"));
            return;
        }

        // v4.2/v4.4: a partial frame (callee-saved registers not stored) and the table call in asm.
        _a.push(rdi); _a.push(rsi); _a.push(rdx); _a.push(rcx); _a.push(-Errno.ENOSYS);
        _a.push(r8); _a.push(r9); _a.push(r10); _a.push(r11);
        _a.sub(rsp, 6 * 8);
        _a.test(TiFlags, (int)ThreadFlags.WorkSyscallEntry);
        _a.jnz(_s.L("tracesys"));
        _s.Here("entry_SYSCALL_64_fastpath");
        _a.cmp(rax, SyscallTable.NrSyscalls - 1);
        _a.ja(_s.L("fastpath_done"));
        _a.mov(rcx, r10);
        _a.call(__qword_ptr[rax * 8 + (long)_layout.SysCallTable]);
        _a.mov(__qword_ptr[rsp + Regs64.RAX], rax);
        _s.Here("fastpath_done");
        _a.test(TiFlags, (int)ThreadFlags.AllWork);
        _a.jnz(_s.L("int_ret_from_sys_call_irqs_off"));
        // Nothing could have changed pt_regs: SYSRETQ without re-checking it.
        _a.mov(rcx, __qword_ptr[rsp + Regs64.RIP]);
        _a.mov(r11, __qword_ptr[rsp + Regs64.EFLAGS]);
        RestoreCRegsExceptRcxR11();
        _a.mov(rsp, __qword_ptr[rsp + Regs64.RSP]);
        _a.swapgs();
        _a.sysretq();

        _s.Here("tracesys");
        SaveExtraRegs();
        _a.mov(rdi, rsp);
        Call("syscall_trace_enter");
        // ptrace may have changed the arguments: reload them from pt_regs; rax is the (possibly new) number.
        _a.mov(rdi, __qword_ptr[rsp + Regs64.RDI]);
        _a.mov(rsi, __qword_ptr[rsp + Regs64.RSI]);
        _a.mov(rdx, __qword_ptr[rsp + Regs64.RDX]);
        _a.mov(r10, __qword_ptr[rsp + Regs64.R10]);
        _a.mov(r8, __qword_ptr[rsp + Regs64.R8]);
        _a.mov(r9, __qword_ptr[rsp + Regs64.R9]);
        _a.cmp(rax, SyscallTable.NrSyscalls - 1);
        _a.ja(_s.L("int_ret_from_sys_call"));
        _a.mov(rcx, r10);
        _a.call(__qword_ptr[rax * 8 + (long)_layout.SysCallTable]);
        _a.mov(__qword_ptr[rsp + Regs64.RAX], rax);
        _a.jmp(_s.L("int_ret_from_sys_call"));

        _s.Here("int_ret_from_sys_call_irqs_off");
        SaveExtraRegs();
        _s.Here("int_ret_from_sys_call");
        _a.mov(rdi, rsp);
        Call("syscall_return_slowpath");
        // The opportunistic-SYSRET compare ladder of entry_64.S, evaluated by the model's exit policy.
        _a.mov(rdi, rsp);
        Call("opportunistic_sysret_ok");
        _a.test(al, al);
        _a.jz(_s.L("swapgs_restore_regs_and_return_to_usermode"));
        _a.jmp(_s.L("syscall_return_via_sysret"));

        // ptregs stubs: rt_sigreturn rewrites all of pt_regs, so it saves the extra registers first and always
        // leaves through the slow path (which still re-checks pt_regs for an opportunistic SYSRET).
        _s.Here("stub_rt_sigreturn");
        _a.lea(rdi, __[rsp + 8]);
        _a.mov(__qword_ptr[rsp + 8 + Regs64.R15], r15); _a.mov(__qword_ptr[rsp + 8 + Regs64.R14], r14);
        _a.mov(__qword_ptr[rsp + 8 + Regs64.R13], r13); _a.mov(__qword_ptr[rsp + 8 + Regs64.R12], r12);
        _a.mov(__qword_ptr[rsp + 8 + Regs64.RBP], rbp); _a.mov(__qword_ptr[rsp + 8 + Regs64.RBX], rbx);
        Call("__x64_sys_rt_sigreturn");
        _a.add(rsp, 8);
        _a.mov(__qword_ptr[rsp + Regs64.RAX], rax);
        _a.jmp(_s.L("int_ret_from_sys_call"));
    }

    private void SaveExtraRegs()
    {
        _a.mov(__qword_ptr[rsp + Regs64.R15], r15); _a.mov(__qword_ptr[rsp + Regs64.R14], r14);
        _a.mov(__qword_ptr[rsp + Regs64.R13], r13); _a.mov(__qword_ptr[rsp + Regs64.R12], r12);
        _a.mov(__qword_ptr[rsp + Regs64.RBP], rbp); _a.mov(__qword_ptr[rsp + Regs64.RBX], rbx);
    }

    private void RestoreCRegsExceptRcxR11()
    {
        _a.mov(r10, __qword_ptr[rsp + Regs64.R10]); _a.mov(r9, __qword_ptr[rsp + Regs64.R9]);
        _a.mov(r8, __qword_ptr[rsp + Regs64.R8]); _a.mov(rax, __qword_ptr[rsp + Regs64.RAX]);
        _a.mov(rdx, __qword_ptr[rsp + Regs64.RDX]); _a.mov(rsi, __qword_ptr[rsp + Regs64.RSI]);
        _a.mov(rdi, __qword_ptr[rsp + Regs64.RDI]);
    }

    // ---------------------------------------------------------------- 32-bit SYSCALL (AMD)
    private void EmitSyscallCompat()
    {
        _s.Here("entry_SYSCALL_compat");
        _a.swapgs();
        _a.mov(r8d, esp);                                    // the user stack pointer
        _a.mov(rsp, PerCpu(KernelLayout.PerCpuTopOfStack));
        _a.push(Selectors.X64.User32Ds);                     // pt_regs->ss
        _a.push(r8);                                         // pt_regs->sp
        _a.push(r11);                                        // pt_regs->flags
        _a.push(Selectors.X64.User32Cs);                     // pt_regs->cs
        _a.push(rcx);                                        // pt_regs->ip (the instruction after SYSCALL)
        _s.Here("entry_SYSCALL_compat_after_hwframe");
        _a.mov(eax, eax);
        _a.push(rax);                                        // pt_regs->orig_ax
        if (_gen == EntryGeneration.PreRewrite)
        {
            OldCompatFrame(cxFromRbp: true);
            // Arg 6 is at the user's ESP (r8), fetched in asm with an exception-table fixup.
            _s.Here("cstar_fetch_arg6");
            _a.mov(r9d, __dword_ptr[r8]);
            OldCompatDispatchAndExit("cstar", arg6InEbp: false);
            return;
        }
        // arg2 travelled in EBP (SYSCALL clobbered ECX): pt_regs->cx = rbp.
        PushAndClearRegs(axIsEnosys: true, cxFromRbp: true, zeroR8ToR11: _gen == EntryGeneration.Rewrite);
        _a.mov(rdi, rsp);
        Call("do_fast_syscall_32");
        _a.test(al, al);
        _a.jz(_s.L("swapgs_restore_regs_and_return_to_usermode"));
        _a.jmp(_s.L("sysret32_from_system_call"));
    }

    // ---------------------------------------------------------------- SYSENTER from compat mode (Intel)
    private void EmitSysenterCompat()
    {
        _s.Here("entry_SYSENTER_compat");
        _a.swapgs();
        _a.mov(rsp, PerCpu(KernelLayout.PerCpuTopOfStack));
        _a.mov(eax, eax);
        if (_gen == EntryGeneration.PreRewrite)
        {
            _a.mov(ebp, ebp);
            _a.push(Selectors.X64.User32Ds);                 // ss
            _a.push(rbp);                                    // sp: the vDSO left the user ESP in EBP
            _a.pushfq();                                     // flags
            _a.or(__dword_ptr[rsp], (int)RFlags.IF);         // SYSENTER cleared IF; it was set in user mode
            _a.push(Selectors.X64.User32Cs);                 // cs
            _a.push(__qword_ptr[(long)(_layout.ThreadInfo + KernelLayout.TiSysenterReturn)]); // ip = sysenter_return
            _a.push(rax);                                    // orig_ax
            OldCompatFrame(cxFromRbp: false);
            SysenterFlagsFixup(RFlags.NT);
            _s.Here("sysenter_fetch_arg6");
            _a.mov(ebp, __dword_ptr[rbp]);
            OldCompatDispatchAndExit("sysenter", arg6InEbp: true);
            EmitSysenterEnd();
            return;
        }
        _a.push(Selectors.X64.User32Ds);                     // pt_regs->ss
        if (_gen == EntryGeneration.Rewrite)
        {
            _a.push(rbp);                                    // v4.4: sp = rbp in asm
            _a.pushfq();
            _a.or(__dword_ptr[rsp], (int)RFlags.IF);         // v4.4: flags |= IF in asm
        }
        else
        {
            _a.push(0);                                      // pt_regs->sp placeholder (do_SYSENTER_32 sets it)
            _a.pushfq();                                     // pt_regs->flags (IF fixed up in C)
        }
        _a.push(Selectors.X64.User32Cs);                     // pt_regs->cs
        _a.push(0);                                          // pt_regs->ip placeholder (the landing pad, set in C)
        _a.push(rax);                                        // pt_regs->orig_ax
        PushAndClearRegs(axIsEnosys: true, zeroR8ToR11: _gen == EntryGeneration.Rewrite);
        _a.cld();
        SysenterFlagsFixup(RFlags.NT | RFlags.AC | RFlags.TF);
        _a.mov(rdi, rsp);
        Call(_gen == EntryGeneration.Modern ? "do_SYSENTER_32" : "do_fast_syscall_32");
        _a.test(al, al);
        _a.jz(_s.L("swapgs_restore_regs_and_return_to_usermode"));
        _a.jmp(_s.L("sysret32_from_system_call"));
        EmitSysenterEnd();
    }

    /// <summary>
    /// If the user entered with NT (and, after the rewrite, AC or TF) set, load clean flags: the saved pt_regs->flags
    /// keep the user's values. With TF set the CPU single-steps the entry up to here and the #DB handler ignores it.
    /// </summary>
    private void SysenterFlagsFixup(ulong mask)
    {
        _a.test(__dword_ptr[rsp + Regs64.EFLAGS], (int)mask);
        _a.jnz(_s.L("sysenter_fix_flags"));
        _s.Here("sysenter_flags_fixed");
    }

    private void EmitSysenterEnd()
    {
        _s.Here("sysenter_fix_flags");
        _a.push((int)RFlags.Fixed);
        _a.popfq();
        _a.jmp(_s.L("sysenter_flags_fixed"));
        _s.Here("__end_entry_SYSENTER_compat");
    }

    // ---------------------------------------------------------------- pre-rewrite compat fast paths
    /// <summary>The v4.2 partial frame: di si dx cx ax=-ENOSYS, and room for the rest (not saved).</summary>
    private void OldCompatFrame(bool cxFromRbp)
    {
        _a.push(rdi); _a.push(rsi); _a.push(rdx); _a.push(cxFromRbp ? rbp : rcx); _a.push(-Errno.ENOSYS);
        _a.sub(rsp, 10 * 8);
        _a.cld();
    }

    /// <summary>v4.2: convert the i386 arguments to the C ABI, call the ia32 table, then SYSRETL unless work is pending.</summary>
    private void OldCompatDispatchAndExit(string prefix, bool arg6InEbp)
    {
        _a.test(TiFlags, (int)ThreadFlags.WorkSyscallEntry);
        _a.jnz(_s.L($"{prefix}_tracesys"));
        _s.Here($"{prefix}_do_call");
        // IA32_ARG_FIXUP: ebx, ecx, edx, esi, edi, arg6 → rdi, rsi, rdx, rcx, r8, r9 (all zero-extended).
        if (arg6InEbp) _a.mov(r9d, ebp);
        _a.mov(r8d, edi);
        _a.mov(edi, ebx);
        _a.mov(esi, __dword_ptr[rsp + Regs64.RCX]);
        _a.mov(ecx, __dword_ptr[rsp + Regs64.RSI]);
        _a.mov(edx, edx);
        _a.cmp(rax, SyscallTable.NrSyscalls - 1);
        _a.ja(_s.L($"{prefix}_badsys"));
        _a.call(__qword_ptr[rax * 8 + (long)_layout.Ia32SysCallTable]);
        _a.mov(__qword_ptr[rsp + Regs64.RAX], rax);
        _s.Here($"{prefix}_badsys");
        _a.test(TiFlags, (int)ThreadFlags.AllWork);
        _a.jnz(_s.L("ia32_ret_from_sys_call"));
        // "sysexit_from_sys_call" really uses SYSRETL on 64-bit kernels.
        _a.mov(ecx, __dword_ptr[rsp + Regs64.RIP]);
        _a.mov(eax, __dword_ptr[rsp + Regs64.RAX]);
        _a.mov(esi, __dword_ptr[rsp + Regs64.RSI]);
        _a.mov(edi, __dword_ptr[rsp + Regs64.RDI]);
        _a.mov(edx, __dword_ptr[rsp + Regs64.RDX]);
        if (prefix == "sysenter") _a.xor(edx, edx);          // the vDSO pops the user's EDX back
        _a.xor(r8d, r8d); _a.xor(r9d, r9d); _a.xor(r10d, r10d);
        _a.mov(r11d, __dword_ptr[rsp + Regs64.EFLAGS]);
        _a.mov(esp, __dword_ptr[rsp + Regs64.RSP]);
        _a.swapgs();
        _a.sysret();

        _s.Here($"{prefix}_tracesys");
        SaveExtraRegs();
        if (!arg6InEbp) _a.mov(__qword_ptr[rsp + Regs64.RBP], r9); // the tracer sees arg6 in pt_regs->bp
        _a.mov(rdi, rsp);
        Call("syscall_trace_enter");
        // Reload the (possibly edited) arguments from pt_regs; rax = the returned number, truncated to 32 bits.
        _a.mov(eax, eax);
        _a.mov(ebx, __dword_ptr[rsp + Regs64.RBX]); _a.mov(edx, __dword_ptr[rsp + Regs64.RDX]);
        _a.mov(edi, __dword_ptr[rsp + Regs64.RDI]);
        if (arg6InEbp) _a.mov(ebp, __dword_ptr[rsp + Regs64.RBP]); else _a.mov(r9d, __dword_ptr[rsp + Regs64.RBP]);
        _a.jmp(_s.L($"{prefix}_do_call"));

        if (prefix == "cstar") return;
        _s.Here("ia32_badarg");
        _a.mov(__qword_ptr[rsp + Regs64.RAX], -14);            // -EFAULT, and the syscall is not run
        _s.Here("ia32_ret_from_sys_call");
        SaveExtraRegs();
        _a.mov(__qword_ptr[rsp + Regs64.R8], 0); _a.mov(__qword_ptr[rsp + Regs64.R9], 0);
        _a.mov(__qword_ptr[rsp + Regs64.R10], 0); _a.mov(__qword_ptr[rsp + Regs64.R11], 0);
        _a.mov(rdi, rsp);
        Call("syscall_return_slowpath");
        _a.jmp(_s.L("swapgs_restore_regs_and_return_to_usermode"));
    }

    // ---------------------------------------------------------------- INT 0x80
    private void EmitInt80()
    {
        if (_gen == EntryGeneration.Modern)
        {
            // v6.7+: an ordinary IDT entry; orig_ax = -1, ax = the number, and do_int80_emulation sorts it out.
            _s.Here("asm_int80_emulation");
            _a.push(-1);
            _a.swapgs();
            PushAndClearRegs(axIsEnosys: false);
            _a.mov(rdi, rsp);
            Call("do_int80_emulation");
            _a.jmp(_s.L("swapgs_restore_regs_and_return_to_usermode"));
            return;
        }
        _s.Here("entry_INT80_compat");
        _a.swapgs();
        _a.mov(eax, eax);
        _a.push(rax);                                            // orig_ax
        if (_gen == EntryGeneration.PreRewrite)
        {
            // v4.2: dispatch in asm through the ia32 table; r8-r11 stored as zeros; always IRET.
            _a.push(rdi); _a.push(rsi); _a.push(rdx); _a.push(rcx); _a.push(-Errno.ENOSYS);
            for (int i = 0; i < 4; i++) _a.push(0);
            _a.push(rbx); _a.push(rbp); _a.push(r12); _a.push(r13); _a.push(r14); _a.push(r15);
            _a.cld();
            _a.test(TiFlags, (int)ThreadFlags.WorkSyscallEntry);
            _a.jnz(_s.L("ia32_tracesys"));
            _s.Here("ia32_do_call");
            _a.mov(r9d, ebp); _a.mov(r8d, edi); _a.mov(edi, ebx);
            _a.mov(esi, __dword_ptr[rsp + Regs64.RCX]); _a.mov(ecx, __dword_ptr[rsp + Regs64.RSI]); _a.mov(edx, edx);
            _a.cmp(rax, SyscallTable.NrSyscalls - 1);
            _a.ja(_s.L("ia32_int80_done"));
            _a.call(__qword_ptr[rax * 8 + (long)_layout.Ia32SysCallTable]);
            _a.mov(__qword_ptr[rsp + Regs64.RAX], rax);
            _s.Here("ia32_int80_done");
            _a.mov(rdi, rsp);
            Call("syscall_return_slowpath");
            _a.jmp(_s.L("swapgs_restore_regs_and_return_to_usermode"));
            _s.Here("ia32_tracesys");
            _a.mov(rdi, rsp);
            Call("syscall_trace_enter");
            _a.mov(eax, eax);
            _a.mov(ebx, __dword_ptr[rsp + Regs64.RBX]); _a.mov(edx, __dword_ptr[rsp + Regs64.RDX]);
            _a.mov(edi, __dword_ptr[rsp + Regs64.RDI]); _a.mov(ebp, __dword_ptr[rsp + Regs64.RBP]);
            _a.jmp(_s.L("ia32_do_call"));
            return;
        }
        // v4.4: full frame, r8-r11 zero, C does the rest.
        PushAndClearRegs(axIsEnosys: true, zeroR8ToR11: true);
        _a.cld();
        _a.mov(rdi, rsp);
        Call("do_syscall_32_irqs_off");
        _a.jmp(_s.L("swapgs_restore_regs_and_return_to_usermode"));
    }

    // ---------------------------------------------------------------- exits
    private void EmitExits()
    {
        // SYSRETQ: every register from pt_regs (rcx/r11 hold ip/flags, equal by the exit checks), then the user RSP.
        _s.Here("syscall_return_via_sysret");
        PopRegs(popRdi: false);
        _a.pop(rdi);
        _a.add(rsp, 8);                                          // orig_ax
        _a.mov(rsp, __qword_ptr[rsp + (Regs64.RSP - Regs64.RIP)]);
        _a.swapgs();
        _a.sysretq();

        // SYSRETL for both compat fast entries: ECX = ip (the landing pad), R11 = flags; pt_regs->cx is not restored.
        _s.Here("sysret32_from_system_call");
        _a.mov(rbx, __qword_ptr[rsp + Regs64.RBX]);
        _a.mov(rbp, __qword_ptr[rsp + Regs64.RBP]);
        _a.mov(r11, __qword_ptr[rsp + Regs64.EFLAGS]);
        _a.mov(rcx, __qword_ptr[rsp + Regs64.RIP]);
        _a.mov(rax, __qword_ptr[rsp + Regs64.RAX]);
        _a.mov(rdx, __qword_ptr[rsp + Regs64.RDX]);
        _a.mov(rsi, __qword_ptr[rsp + Regs64.RSI]);
        _a.mov(rdi, __qword_ptr[rsp + Regs64.RDI]);
        _a.mov(rsp, __qword_ptr[rsp + Regs64.RSP]);
        _a.xor(r8d, r8d); _a.xor(r9d, r9d); _a.xor(r10d, r10d); // no kernel values leak to the 32-bit task
        _a.swapgs();
        _a.sysret();
        _a.int3();

        // IRET to user mode: everything from pt_regs.
        _s.Here("swapgs_restore_regs_and_return_to_usermode");
        _s.Here("restore_regs_and_iret");
        PopRegs();
        _a.add(rsp, 8);
        _a.swapgs();
        // native_iret: "Are we returning to a stack segment from the LDT?" Then through espfix64.
        _a.test(__byte_ptr[rsp + (Regs64.SS - Regs64.RIP)], 4);
        _a.jnz(_s.L("native_irq_return_ldt"));
        _s.Here("native_irq_return_iret");
        _a.iretq();

        // native_irq_return_ldt: copy the IRET frame (and user RAX) to this CPU's espfix slot, then IRET from the
        // read-only alias whose address bits 31:16 are the user RSP's, so that an IRET to a 16-bit SS, which loads only
        // SP, leaves the user's ESP[31:16] behind rather than the kernel's.
        _s.Here("native_irq_return_ldt");
        _a.push(rdi);                                            // stash user RDI
        _a.swapgs();                                             // to kernel GS
        _a.mov(rdi, PerCpu(KernelLayout.PerCpuEspfixWaddr));
        _a.mov(__qword_ptr[rdi], rax);                           // user RAX
        _a.mov(rax, __qword_ptr[rsp + 8]); _a.mov(__qword_ptr[rdi + 8], rax);     // RIP
        _a.mov(rax, __qword_ptr[rsp + 16]); _a.mov(__qword_ptr[rdi + 16], rax);   // CS
        _a.mov(rax, __qword_ptr[rsp + 24]); _a.mov(__qword_ptr[rdi + 24], rax);   // RFLAGS
        _a.mov(rax, __qword_ptr[rsp + 40]); _a.mov(__qword_ptr[rdi + 40], rax);   // SS
        _a.mov(rax, __qword_ptr[rsp + 32]); _a.mov(__qword_ptr[rdi + 32], rax);   // RSP
        _a.and(eax, unchecked((int)0xFFFF_0000));                // RAX = user RSP & 0xffff0000
        _a.or(rax, PerCpu(KernelLayout.PerCpuEspfixStack));
        _a.swapgs();                                             // to user GS
        _a.pop(rdi);
        _a.mov(rsp, rax);
        _a.pop(rax);                                             // user RAX
        _a.jmp(_s.L("native_irq_return_iret"));

        // IRET to kernel mode (after an exception taken in the kernel that the kernel survived).
        _s.Here("restore_regs_and_return_to_kernel");
        PopRegs();
        _a.add(rsp, 8);
        _a.iretq();
    }

    // ---------------------------------------------------------------- exceptions
    private void EmitException(int vector)
    {
        _s.Here($"asm_exc_{vector}");
        if (!Vector.HasErrorCode(vector)) _a.push(-1);
        // error_entry: SWAPGS only when the exception came from user mode.
        _a.test(__byte_ptr[rsp + (Regs64.CS - Regs64.ORIG_RAX)], 3);
        _a.jz(_s.L($"asm_exc_{vector}_kernel"));
        _a.swapgs();
        PushAndClearRegs(axIsEnosys: false);
        // sync_regs: a user-mode exception's pt_regs belong at the top of the task's stack, even when the CPU delivered
        // it on an IST stack (#DB, NMI, #MC), so that signal delivery and the tracer see the task's own pt_regs.
        _a.mov(rdi, rsp);
        Call("sync_regs");
        _a.mov(rsp, rax);
        _a.jmp(_s.L($"asm_exc_{vector}_not_bad_iret"));
        _s.Here($"asm_exc_{vector}_kernel");
        PushAndClearRegs(axIsEnosys: false);
        // error_entry's .Lerror_bad_iret: a fault on the IRET to user mode came after the exit's SWAPGS, so GS is the
        // user's again; swap back before C code runs (and the exit swaps once more on the way out).
        _a.lea(rcx, __[_s.L("native_irq_return_iret")]);
        _a.cmp(__qword_ptr[rsp + Regs64.RIP], rcx);
        _a.jne(_s.L($"asm_exc_{vector}_not_bad_iret"));
        _a.swapgs();
        _s.Here($"asm_exc_{vector}_not_bad_iret");
        _a.mov(rdi, rsp);
        // idtentry: the error code for vectors that push one; "xorl %esi, %esi" for the rest (the -1 pushed in its
        // place is only the orig_ax that marks "not a syscall").
        if (Vector.HasErrorCode(vector)) _a.mov(rsi, __qword_ptr[rsp + Regs64.ORIG_RAX]); else _a.xor(esi, esi);
        _a.mov(__qword_ptr[rsp + Regs64.ORIG_RAX], -1);
        _a.mov(edx, vector);
        Call("exc_handler");
        // The handler returns the pt_regs to continue with: the same ones, or after a bad IRET the user-mode copy
        // fixup_bad_iret made at the top of the stack ("mov %rax, %rsp").
        _a.mov(rsp, rax);
        _a.test(__byte_ptr[rsp + Regs64.CS], 3);
        _a.jnz(_s.L("swapgs_restore_regs_and_return_to_usermode"));
        _a.jmp(_s.L("restore_regs_and_return_to_kernel"));
    }
}
