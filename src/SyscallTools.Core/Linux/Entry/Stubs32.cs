using Iced.Intel;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux.Boot;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Linux.Syscalls;
using static Iced.Intel.AssemblerRegisters;

namespace SyscallTools.Core.Linux.Entry;

/// <summary>
/// The entry and exit code of a 32-bit kernel (arch/x86/entry/entry_32.S): entry_SYSENTER_32 with its
/// `sti; sysexit` exit, entry_INT80_32 (a trap gate), the exception entries, and restore_all's IRET.
/// SAVE_ALL builds the 32-bit pt_regs whose first six words double as the asmlinkage argument frame.
/// </summary>
internal sealed class Stubs32
{
    private readonly StubAssembler _s = new(32);
    private readonly Assembler _a;
    private readonly KernelLayout _layout;
    private readonly EntryGeneration _gen;
    private readonly Func<string, ulong> _fn;

    private Stubs32(KernelLayout layout, EntryGeneration gen, Func<string, ulong> fn)
    {
        _a = _s.A;
        _layout = layout;
        _gen = gen;
        _fn = fn;
    }

    public static StubImage Build(KernelLayout layout, EntryGeneration gen, Func<string, ulong> fn)
    {
        var b = new Stubs32(layout, gen, fn);
        b.EmitSysenter();
        b.EmitInt80();
        b.EmitExits();
        for (int v = 0; v < 32; v++) b.EmitException(v);
        return b._s.Assemble(layout.Text);
    }

    private AssemblerMemoryOperand TiFlags => __dword_ptr[(long)(_layout.ThreadInfo + KernelLayout.TiFlags)];
    private void Call(string function) => _a.call((uint)_fn(function));

    /// <summary>SAVE_ALL: gs fs es ds ax bp di si dx cx bx, then the kernel's data and per-CPU segments.</summary>
    private void SaveAll(bool axIsEnosys)
    {
        _a.push(gs); _a.push(fs); _a.push(es); _a.push(ds);
        if (axIsEnosys) _a.push(-Errno.ENOSYS); else _a.push(eax);
        _a.push(ebp); _a.push(edi); _a.push(esi); _a.push(edx); _a.push(ecx); _a.push(ebx);
        _a.mov(edx, (uint)Selectors.X86.UserDs);
        _a.mov(ds, dx);
        _a.mov(es, dx);
        _a.mov(edx, (uint)Selectors.X86.KernelPercpu);
        _a.mov(fs, dx);
    }

    /// <summary>
    /// RESTORE_REGS: the general registers and the four data segments, then past orig_ax. Each segment pop has an
    /// exception-table entry (restore_pop_* → restore_pop_*_fixup): a selector the CPU refuses — one a sigreturn
    /// frame asked for, say — is overwritten with 0 on the stack and popped again, so the task gets a null segment.
    /// </summary>
    private void RestoreRegs()
    {
        _a.pop(ebx); _a.pop(ecx); _a.pop(edx); _a.pop(esi); _a.pop(edi); _a.pop(ebp); _a.pop(eax);
        _s.Here("restore_pop_ds"); _a.pop(ds);
        _s.Here("restore_pop_es"); _a.pop(es);
        _s.Here("restore_pop_fs"); _a.pop(fs);
        _s.Here("restore_pop_gs"); _a.pop(gs);
        _a.add(esp, 4);
    }

    /// <summary>
    /// "1: mov PT_FS(%esp), %fs" on the SYSEXIT path, with its exception-table entry: a selector the CPU refuses (a
    /// sigreturn or a tracer put it in pt_regs) becomes 0 in pt_regs and the load is retried ("2: movl $0, PT_FS(%esp);
    /// jmp 1b"), so the task gets a null FS instead of the kernel faulting.
    /// </summary>
    private void SysexitLoadFs(string label)
    {
        var done = _a.CreateLabel();
        _s.Here(label);
        _a.mov(fs, __word_ptr[esp + Regs32.FS]);
        _a.jmp(done);
        _s.Here(label + "_fixup");
        _a.mov(__dword_ptr[esp + Regs32.FS], 0);
        _a.jmp(_s.L(label));
        _a.Label(ref done);
    }

    /// <summary>The .fixup code of RESTORE_REGS: "movl $0, (%esp); jmp 1b".</summary>
    private void EmitRestoreRegsFixups()
    {
        foreach (var seg in new[] { "ds", "es", "fs", "gs" })
        {
            _s.Here($"restore_pop_{seg}_fixup");
            _a.mov(__dword_ptr[esp], 0);
            _a.jmp(_s.L($"restore_pop_{seg}"));
        }
    }

    private void EmitSysenter()
    {
        _s.Here("entry_SYSENTER_32");
        // SYSENTER_ESP points at a small per-CPU area; the task stack comes from there. DS is still the user's (SYSENTER
        // loads only CS and SS), so like the kernel's "movl TSS_sysenter_sp0(%esp), %esp" this reads through SS.
        _a.mov(esp, __dword_ptr.ss[(long)(_layout.PerCpu + KernelLayout.PerCpuTopOfStack)]);
        _s.Here("sysenter_past_esp");
        _a.push((int)Selectors.X86.UserDs);                    // pt_regs->ss
        _a.push(ebp);                                          // pt_regs->sp (stashed in bp)
        _a.pushfd();                                           // pt_regs->flags (IF = 0 here)
        if (_gen != EntryGeneration.Modern) _a.or(__dword_ptr[esp], (int)RFlags.IF);
        _a.push((int)Selectors.X86.UserCs);                    // pt_regs->cs
        if (_gen == EntryGeneration.PreRewrite)
            _a.push(__dword_ptr.ss[(long)(_layout.ThreadInfo + KernelLayout.TiSysenterReturn)]); // ip = sysenter_return (through SS: DS is the user's)
        else
            _a.push(0);                                        // pt_regs->ip placeholder
        _a.push(eax);                                          // pt_regs->orig_ax
        SaveAll(axIsEnosys: true);
        _a.cld();
        _a.test(__dword_ptr[esp + Regs32.EFLAGS], (int)(_gen == EntryGeneration.PreRewrite ? RFlags.NT : RFlags.NT | RFlags.AC | RFlags.TF));
        _a.jnz(_s.L("sysenter_fix_flags"));
        _s.Here("sysenter_flags_fixed");

        if (_gen == EntryGeneration.PreRewrite)
        {
            // v4.2: fetch arg 6 in asm (exception-table fixup to syscall_fault), dispatch through sys_call_table.
            _s.Here("sysenter_fetch_arg6");
            _a.mov(ebp, __dword_ptr[ebp]);
            _a.mov(__dword_ptr[esp + Regs32.EBP], ebp);
            _a.test(TiFlags, (int)ThreadFlags.WorkSyscallEntry);
            _a.jnz(_s.L("sysenter_tracesys"));
            _s.Here("sysenter_do_call");
            _a.cmp(eax, SyscallTable.NrSyscalls);
            _a.jae(_s.L("sysenter_badsys"));
            _a.call(__dword_ptr[eax * 4 + (long)_layout.SysCallTable]);
            _a.mov(__dword_ptr[esp + Regs32.EAX], eax);
            _s.Here("sysenter_badsys");
            _a.test(TiFlags, (int)ThreadFlags.AllWork);
            _a.jnz(_s.L("syscall_exit_work"));
            // sysexit: EDX = the return IP, ECX = the user ESP, EBP cleared; the vDSO pops the rest.
            _a.mov(edx, __dword_ptr[esp + Regs32.EIP]);
            _a.mov(ecx, __dword_ptr[esp + Regs32.OLDESP]);
            _a.xor(ebp, ebp);
            SysexitLoadFs("sysexit_load_fs_v42");
            _a.sti();
            _a.sysexit();
            _s.Here("sysenter_tracesys");
            _a.mov(eax, esp);
            Call("syscall_trace_enter");
            _a.mov(ebx, __dword_ptr[esp + Regs32.EBX]);
            _a.mov(ecx, __dword_ptr[esp + Regs32.ECX]);
            _a.mov(edx, __dword_ptr[esp + Regs32.EDX]);
            _a.jmp(_s.L("sysenter_do_call"));
            _s.Here("syscall_fault");
            _a.mov(__dword_ptr[esp + Regs32.EAX], -14);        // -EFAULT; the call is not run
            _s.Here("syscall_exit_work");
            _a.mov(eax, esp);
            Call("syscall_return_slowpath");
            _a.jmp(_s.L("restore_all"));
            EmitSysenterEnd();
            return;
        }

        _a.mov(eax, esp);
        Call(_gen == EntryGeneration.Modern ? "do_SYSENTER_32" : "do_fast_syscall_32");
        _a.test(eax, eax);
        _a.jz(_s.L("restore_all"));
        // Opportunistic SYSEXIT: EDX = pt_regs->ip (the landing pad), ECX = pt_regs->sp; cx and dx are skipped.
        _a.mov(edx, __dword_ptr[esp + Regs32.EIP]);
        _a.mov(ecx, __dword_ptr[esp + Regs32.OLDESP]);
        SysexitLoadFs("sysexit_load_fs");
        _a.pop(ebx);
        _a.add(esp, 2 * 4);
        _a.pop(esi); _a.pop(edi); _a.pop(ebp); _a.pop(eax);
        if (_gen == EntryGeneration.Modern)
        {
            // Restore all flags except IF (STI's one-instruction shadow protects SYSEXIT; POPF has none).
            _a.add(esp, Regs32.EFLAGS - Regs32.DS);
            _a.btr(__dword_ptr[esp], 9);
            _a.popfd();
        }
        // v4.4 returns the kernel's live flags: the user sees IF from STI and whatever else is live.
        _a.sti();
        _a.sysexit();
        EmitSysenterEnd();
    }

    private void EmitSysenterEnd()
    {
        _s.Here("sysenter_fix_flags");
        _a.push((int)RFlags.Fixed);
        _a.popfd();
        _a.jmp(_s.L("sysenter_flags_fixed"));
        _s.Here("__end_entry_SYSENTER_32");
    }

    private void EmitInt80()
    {
        _s.Here("entry_INT80_32");
        _a.push(eax);                                          // orig_ax
        SaveAll(axIsEnosys: true);
        _a.cld();
        if (_gen == EntryGeneration.PreRewrite)
        {
            _a.test(TiFlags, (int)ThreadFlags.WorkSyscallEntry);
            _a.jnz(_s.L("syscall_trace_entry"));
            _s.Here("syscall_call");
            _a.cmp(eax, SyscallTable.NrSyscalls);
            _a.jae(_s.L("syscall_exit"));
            _a.call(__dword_ptr[eax * 4 + (long)_layout.SysCallTable]);
            _a.mov(__dword_ptr[esp + Regs32.EAX], eax);
            _s.Here("syscall_exit");
            _a.mov(eax, esp);
            Call("syscall_return_slowpath");
            _a.jmp(_s.L("restore_all"));
            _s.Here("syscall_trace_entry");
            _a.mov(eax, esp);
            Call("syscall_trace_enter");
            _a.mov(ebx, __dword_ptr[esp + Regs32.EBX]);
            _a.mov(ecx, __dword_ptr[esp + Regs32.ECX]);
            _a.mov(edx, __dword_ptr[esp + Regs32.EDX]);
            _a.jmp(_s.L("syscall_call"));
            return;
        }
        _a.mov(eax, esp);
        Call("do_int80_syscall_32");
        _a.jmp(_s.L("restore_all"));
    }

    private ulong GdtEspfixSs => _layout.Gdt + Selectors.X86.EspfixSs;

    private void EmitExits()
    {
        _s.Here("restore_all");
        // "returning to user-space with LDT SS": mix EFLAGS.VM, SS's TI and CS's RPL; only an LDT SS for ring 3 (and not
        // vm86) goes through espfix. (PT_OLDSS is garbage when returning to the kernel, but then CS's RPL is 0.)
        _a.mov(eax, __dword_ptr[esp + Regs32.EFLAGS]);
        _a.mov(ah, __byte_ptr[esp + Regs32.OLDSS]);
        _a.mov(al, __byte_ptr[esp + Regs32.CS]);
        _a.and(eax, (int)(RFlags.VM | (4 << 8) | 3));
        _a.cmp(eax, (4 << 8) | 3);
        _a.je(_s.L("ldt_ss"));
        _s.Here("restore_nocheck");
        RestoreRegs();
        _s.Here("irq_return");
        _a.iretd();
        EmitRestoreRegsFixups();

        // ldt_ss: "We're returning to userspace with a 16 bit stack. The CPU will not restore the high word of ESP for
        // us on executing iret... We do this by preloading the high word of ESP with the high word of the userspace ESP
        // while compensating for the offset by changing to the ESPFIX segment with a base address that matches."
        _s.Here("ldt_ss");
        _a.mov(edx, esp);                                      // kernel esp
        _a.mov(eax, __dword_ptr[esp + Regs32.OLDESP]);         // userspace esp
        _a.mov(ax, dx);                                        // eax: new kernel esp
        _a.sub(edx, eax);                                      // offset (low word is 0)
        _a.shr(edx, 16);
        _a.mov(__byte_ptr[(long)(GdtEspfixSs + 4)], dl);       // base bits 16..23
        _a.mov(__byte_ptr[(long)(GdtEspfixSs + 7)], dh);       // base bits 24..31
        _a.push((int)Selectors.X86.EspfixSs);
        _a.push(eax);
        _a.lss(esp, __fword_ptr[esp]);                         // switch to the espfix segment
        _a.jmp(_s.L("restore_nocheck"));

        // iret_exc, irq_return's exception-table target: the #GP/#NP/#SS handler sent the kernel here with the stack as
        // it was at the IRET, so the user's IRET frame is on top. It becomes the hardware part of a new user-mode
        // pt_regs, and do_iret_error reports X86_TRAP_IRET (32) with error code 0: SIGILL, ILL_BADSTK.
        _s.Here("iret_exc");
        _a.push(0);                                            // "no error code"
        SaveAll(axIsEnosys: false);
        UnwindEspfixStack("iret_exc");
        _a.cld();
        _a.mov(eax, esp);
        _a.xor(edx, edx);
        _a.mov(__dword_ptr[esp + Regs32.ORIG_EAX], -1);
        _a.mov(ecx, SignalFrames.TrapIret);
        Call("exc_handler");
        _a.jmp(_s.L("restore_all"));
    }

    /// <summary>
    /// UNWIND_ESPFIX_STACK: an exception taken on the espfix stack (an IRET or a segment pop of the exit faulting)
    /// cannot run C there; switch to the same memory through __KERNEL_DS, ESP adjusted by the ESPFIX_SS base.
    /// </summary>
    private void UnwindEspfixStack(string tag)
    {
        _a.mov(eax, ss);
        _a.cmp(ax, Selectors.X86.EspfixSs);
        _a.jne(_s.L($"{tag}_not_espfix"));
        _a.mov(al, __byte_ptr[(long)(GdtEspfixSs + 4)]);       // FIXUP_ESPFIX_STACK: base bits 16..31
        _a.mov(ah, __byte_ptr[(long)(GdtEspfixSs + 7)]);
        _a.shl(eax, 16);
        _a.add(eax, esp);                                      // the adjusted stack pointer
        _a.push((int)Selectors.X86.KernelDs);
        _a.push(eax);
        _a.lss(esp, __fword_ptr[esp]);
        _s.Here($"{tag}_not_espfix");
    }

    private void EmitException(int vector)
    {
        _s.Here($"asm_exc_{vector}");
        if (!Vector.HasErrorCode(vector)) _a.push(-1);
        SaveAll(axIsEnosys: false);
        UnwindEspfixStack($"asm_exc_{vector}");
        _a.cld();
        _a.mov(eax, esp);
        // The error code for vectors that push one, 0 for the rest (their -1 only marks orig_ax "not a syscall").
        if (Vector.HasErrorCode(vector)) _a.mov(edx, __dword_ptr[esp + Regs32.ORIG_EAX]); else _a.xor(edx, edx);
        _a.mov(__dword_ptr[esp + Regs32.ORIG_EAX], -1);
        _a.mov(ecx, vector);
        Call("exc_handler");
        // exc_handler returns the pt_regs to leave through: its own, or after a faulting IRET (iret_exc) the task's.
        _a.mov(esp, eax);
        _a.jmp(_s.L("restore_all"));
    }
}
