using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux.Syscalls;
using static SyscallTools.Core.Linux.SignalFrames;

namespace SyscallTools.Core.Linux;

/// <summary>
/// Handler delivery (arch/x86/kernel/signal.c, signal_32.c, signal_64.c): the frame on the user stack, the registers
/// for the handler, and sigreturn / rt_sigreturn putting everything back.
/// </summary>
public sealed partial class LinuxMachine
{
    /// <summary>FIX_EFLAGS: the flags sigreturn may restore (CF PF AF ZF SF TF DF OF AC RF).</summary>
    public const ulong FixEflags = RFlags.CF | RFlags.PF | RFlags.AF | RFlags.ZF | RFlags.SF | RFlags.TF | RFlags.DF
                                   | RFlags.OF | RFlags.AC | RFlags.RF;

    /// <summary>The trap that raised the signal now being generated (trapno, error code, CR2), if any.</summary>
    private (int Trapno, ulong Err, ulong Cr2, ulong Ip)? _pendingTrap;

    /// <summary>Where the last handler frame was built, for tests and traces.</summary>
    public ulong LastSignalFrame { get; private set; }

    /// <summary>handle_signal(): restart fixups for a handler, the frame, the handler's registers, the new mask.</summary>
    private void HandleSignal(int sig, SignalAction act, PtRegs regs)
    {
        // A syscall interrupted by a handler: -EINTR, or restart when SA_RESTART (or -ERESTARTNOINTR) asks for it.
        if (InSyscall(regs))
        {
            long ax = SignedAx(regs);
            switch (-ax)
            {
                case Errno.ERESTART_RESTARTBLOCK or Errno.ERESTARTNOHAND:
                    regs.Ax = unchecked((ulong)(long)-Errno.EINTR);
                    break;
                case Errno.ERESTARTSYS:
                    if ((act.Flags & SignalAction.SaRestart) == 0) { regs.Ax = unchecked((ulong)(long)-Errno.EINTR); break; }
                    goto case Errno.ERESTARTNOINTR;
                case Errno.ERESTARTNOINTR:
                    regs.Ax = regs.OrigAx;
                    regs.Ip -= 2;
                    break;
            }
        }
        bool ok = Task.Bitness == 32 ? SetupFrame32(sig, act, regs) : SetupFrame64(sig, act, regs);
        if (!ok)
        {
            // signal_setup_done(failed): force_sigsegv.
            Current.Signal = Signal.SIGSEGV;
            Task.Kill(Signal.SIGSEGV);
            Current.KilledWith = RegisterSnapshot.FromPtRegs(regs);
            Cpu.RequestStop($"task killed by SIGSEGV: the frame for {Signal.Name(sig)} could not be written");
            return;
        }
        ForceIret();
        // The handler runs with DF, RF and TF clear (TF unless a debugger set it).
        regs.Flags &= ~(RFlags.DF | RFlags.RF | ((Task.Flags & ThreadFlags.SingleStep) != 0 ? 0 : RFlags.TF));
        SignalState.Blocked |= act.Mask | ((act.Flags & SignalAction.SaNodefer) != 0 ? 0 : SignalState.Bit(sig));
        SignalState.Blocked &= ~SignalState.Unblockable;
        if ((act.Flags & SignalAction.SaResethand) != 0) SignalState.Actions[sig] = SignalAction.Default;
        RecalcSigPending();
        _pendingTrap = null;
    }

    private bool InSyscall(PtRegs regs) => KernelBits == 64 && Task.Bitness == 64 ? (long)regs.OrigAx >= 0 : (int)regs.OrigAx >= 0;
    private long SignedAx(PtRegs regs) => KernelBits == 64 && Task.Bitness == 64 ? (long)regs.Ax : (int)regs.Ax;

    /// <summary>The siginfo_t (of the task's bitness) the signal now being delivered carries: what PTRACE_GETSIGINFO reads.</summary>
    internal byte[] SigInfoForTracer(int sig) => SigInfo(sig);

    private byte[] SigInfo(int sig)
    {
        var info = new byte[128];
        // The union after si_code is 8-byte aligned in the 64-bit siginfo_t: it starts at 16 there, at 12 for i386.
        int union = Task.Bitness == 32 ? 12 : 16;
        void Addr(ulong a)
        {
            if (Task.Bitness == 32) BitConverter.TryWriteBytes(info.AsSpan(union), (uint)a);
            else BitConverter.TryWriteBytes(info.AsSpan(union), a);
        }
        BitConverter.TryWriteBytes(info.AsSpan(SiSigno), sig);
        if (_pendingTrap is { } t)
        {
            // traps.c: do_error_trap() gives the si_code and address of each trap; force_sig() (#GP, #BP, #OF) SI_KERNEL.
            int code = SiKernel;
            if (sig is Signal.SIGSEGV or Signal.SIGBUS && t.Trapno == Vector.PF)
            {
                code = (t.Err & 1) != 0 ? 2 : 1;   // SEGV_ACCERR for a present page, else SEGV_MAPERR
                Addr(t.Cr2);
            }
            else if (t.Trapno == Vector.UD) { code = 2; Addr(t.Ip); }          // ILL_ILLOPN at the instruction
            else if (t.Trapno == Vector.DE) { code = 1; Addr(t.Ip); }          // FPE_INTDIV
            else if (t.Trapno == Vector.AC) code = 1;                          // BUS_ADRALN, no address
            BitConverter.TryWriteBytes(info.AsSpan(SiCode), code);
        }
        else
        {
            BitConverter.TryWriteBytes(info.AsSpan(SiCode), SiUser);
            BitConverter.TryWriteBytes(info.AsSpan(union), Task.Pid);
            BitConverter.TryWriteBytes(info.AsSpan(union + 4), Task.Uid);
        }
        return info;
    }

    private bool SetupFrame32(int sig, SignalAction act, PtRegs regs)
    {
        bool rt = (act.Flags & SignalAction.SaSiginfo) != 0;
        int size = rt ? RtFrame32.Size : Frame32.Size;
        ulong sp = (uint)regs.Sp;
        ulong frame = (((sp - (ulong)size) + 4) & ~15UL) - 4;
        var f = new byte[size];
        int sc = rt ? RtFrame32.UcMcontext : Frame32.Sc;
        void P32(int at, ulong v) => BitConverter.TryWriteBytes(f.AsSpan(at), (uint)v);
        P32(sc + Sc32.Di, regs.Di); P32(sc + Sc32.Si, regs.Si); P32(sc + Sc32.Bp, regs.Bp); P32(sc + Sc32.Sp, regs.Sp);
        P32(sc + Sc32.Bx, regs.Bx); P32(sc + Sc32.Dx, regs.Dx); P32(sc + Sc32.Cx, regs.Cx); P32(sc + Sc32.Ax, regs.Ax);
        P32(sc + Sc32.Ip, regs.Ip); P32(sc + Sc32.Cs, regs.Cs); P32(sc + Sc32.Flags, regs.Flags);
        P32(sc + Sc32.SpAtSignal, regs.Sp); P32(sc + Sc32.Ss, regs.Ss);
        ushort userDs = KernelBits == 64 ? Selectors.X64.UserDs : Selectors.X86.UserDs;
        P32(sc + Sc32.Ds, regs.Has("ds") ? regs["ds"] : userDs); P32(sc + Sc32.Es, regs.Has("es") ? regs["es"] : userDs);
        if (_pendingTrap is { } t) { P32(sc + Sc32.Trapno, (ulong)t.Trapno); P32(sc + Sc32.Err, t.Err); P32(sc + Sc32.Cr2, t.Cr2); }
        P32(sc + Sc32.Oldmask, SignalState.Blocked);
        ulong restorer = (act.Flags & SignalAction.SaRestorer) != 0 ? act.Restorer
            : Task.VdsoBase != 0 && Vdso is not null ? Task.VdsoBase + (ulong)Vdso.Symbols[rt ? "__kernel_rt_sigreturn" : "__kernel_sigreturn"]
            : frame + (ulong)(rt ? RtFrame32.Retcode : Frame32.Retcode);
        P32(rt ? RtFrame32.Pretcode : Frame32.Pretcode, restorer);
        P32(rt ? RtFrame32.Sig : Frame32.Sig, (ulong)sig);
        if (rt)
        {
            P32(RtFrame32.Pinfo, frame + RtFrame32.Info);
            P32(RtFrame32.Puc, frame + RtFrame32.Uc);
            SigInfo(sig).CopyTo(f, RtFrame32.Info);
            BitConverter.TryWriteBytes(f.AsSpan(RtFrame32.UcSigmask), SignalState.Blocked);
            byte[] code = [0xB8, .. BitConverter.GetBytes(Syscalls.Handlers.SignalsReturn.NrRtSigreturn32), 0xCD, 0x80, 0x00];
            code.CopyTo(f, RtFrame32.Retcode);
        }
        else
        {
            P32(Frame32.Extramask, SignalState.Blocked >> 32);
            byte[] code = [0x58, 0xB8, .. BitConverter.GetBytes(Syscalls.Handlers.SignalsReturn.NrSigreturn32), 0xCD, 0x80];
            code.CopyTo(f, Frame32.Retcode);
        }
        if (!UserMemory.TryWrite(frame, f)) return false;
        LastSignalFrame = frame;
        regs.Sp = frame;
        regs.Ip = act.Handler;
        regs.Ax = (ulong)sig;
        regs.Dx = rt ? frame + RtFrame32.Info : 0;
        regs.Cx = rt ? frame + RtFrame32.Uc : 0;
        regs.Cs = KernelBits == 64 ? Selectors.X64.User32Cs : Selectors.X86.UserCs;
        regs.Ss = userDs;
        return true;
    }

    private bool SetupFrame64(int sig, SignalAction act, PtRegs regs)
    {
        // x86-64 has no vDSO restorer: a handler without SA_RESTORER cannot return, and the kernel refuses it.
        if ((act.Flags & SignalAction.SaRestorer) == 0) return false;
        ulong sp = regs.Sp - 128;                               // the red zone
        ulong frame = ((sp - RtFrame64.Size) & ~15UL) - 8;
        var f = new byte[RtFrame64.Size];
        void P64(int at, ulong v) => BitConverter.TryWriteBytes(f.AsSpan(at), v);
        void P16(int at, ulong v) => BitConverter.TryWriteBytes(f.AsSpan(at), (ushort)v);
        int sc = RtFrame64.UcMcontext;
        P64(sc + Sc64.R8, regs.R8); P64(sc + Sc64.R9, regs.R9); P64(sc + Sc64.R10, regs.R10); P64(sc + Sc64.R11, regs.R11);
        P64(sc + Sc64.R12, regs["r12"]); P64(sc + Sc64.R13, regs["r13"]); P64(sc + Sc64.R14, regs["r14"]); P64(sc + Sc64.R15, regs["r15"]);
        P64(sc + Sc64.Di, regs.Di); P64(sc + Sc64.Si, regs.Si); P64(sc + Sc64.Bp, regs.Bp); P64(sc + Sc64.Bx, regs.Bx);
        P64(sc + Sc64.Dx, regs.Dx); P64(sc + Sc64.Ax, regs.Ax); P64(sc + Sc64.Cx, regs.Cx); P64(sc + Sc64.Sp, regs.Sp);
        P64(sc + Sc64.Ip, regs.Ip); P64(sc + Sc64.Flags, regs.Flags); P16(sc + Sc64.Cs, regs.Cs); P16(sc + Sc64.Ss, regs.Ss);
        if (_pendingTrap is { } t) { P64(sc + Sc64.Trapno, (ulong)t.Trapno); P64(sc + Sc64.Err, t.Err); P64(sc + Sc64.Cr2, t.Cr2); }
        P64(sc + Sc64.Oldmask, SignalState.Blocked);
        P64(RtFrame64.UcFlags, UcSigcontextSs | (regs.Cs == Selectors.X64.UserCs ? UcStrictRestoreSs : 0));
        P64(RtFrame64.UcSigmask, SignalState.Blocked);
        SigInfo(sig).CopyTo(f, RtFrame64.Info);
        P64(RtFrame64.Pretcode, act.Restorer);
        if (!UserMemory.TryWrite(frame, f)) return false;
        LastSignalFrame = frame;
        regs.Sp = frame;
        regs.Ip = act.Handler;
        regs.Di = (ulong)sig;
        regs.Si = frame + RtFrame64.Info;
        regs.Dx = frame + RtFrame64.Uc;
        regs.Ax = 0;
        regs.Cs = Selectors.X64.UserCs;
        regs.Ss = Selectors.X64.UserDs;
        return true;
    }

    /// <summary>sigreturn (i386) and rt_sigreturn: restore the interrupted registers and mask from the frame.</summary>
    internal long SigReturn(bool rt, PtRegs regs)
    {
        if (Task.Bitness == 64)
        {
            ulong frame = regs.Sp - 8;                          // the handler's ret popped pretcode
            var f = new byte[RtFrame64.Size];
            if (!UserMemory.TryRead(frame, f)) return BadFrame(regs);
            int sc = RtFrame64.UcMcontext;
            ulong G(int at) => BitConverter.ToUInt64(f, at);
            regs.R8 = G(sc + Sc64.R8); regs.R9 = G(sc + Sc64.R9); regs.R10 = G(sc + Sc64.R10); regs.R11 = G(sc + Sc64.R11);
            regs["r12"] = G(sc + Sc64.R12); regs["r13"] = G(sc + Sc64.R13); regs["r14"] = G(sc + Sc64.R14); regs["r15"] = G(sc + Sc64.R15);
            regs.Di = G(sc + Sc64.Di); regs.Si = G(sc + Sc64.Si); regs.Bp = G(sc + Sc64.Bp); regs.Bx = G(sc + Sc64.Bx);
            regs.Dx = G(sc + Sc64.Dx); regs.Ax = G(sc + Sc64.Ax); regs.Cx = G(sc + Sc64.Cx); regs.Sp = G(sc + Sc64.Sp);
            regs.Ip = G(sc + Sc64.Ip);
            regs.Flags = (regs.Flags & ~FixEflags) | (G(sc + Sc64.Flags) & FixEflags);
            regs.Cs = (ulong)(BitConverter.ToUInt16(f, sc + Sc64.Cs) | 3);
            regs.Ss = (ulong)(BitConverter.ToUInt16(f, sc + Sc64.Ss) | 3);
            SignalState.Blocked = BitConverter.ToUInt64(f, RtFrame64.UcSigmask) & ~SignalState.Unblockable;
        }
        else
        {
            ulong frame = (uint)regs.Sp - (rt ? 4UL : 8UL);
            int size = rt ? RtFrame32.Size : Frame32.Size;
            var f = new byte[size];
            if (!UserMemory.TryRead(frame, f)) return BadFrame(regs);
            int sc = rt ? RtFrame32.UcMcontext : Frame32.Sc;
            ulong G(int at) => BitConverter.ToUInt32(f, at);
            regs.Di = G(sc + Sc32.Di); regs.Si = G(sc + Sc32.Si); regs.Bp = G(sc + Sc32.Bp); regs.Sp = G(sc + Sc32.Sp);
            regs.Bx = G(sc + Sc32.Bx); regs.Dx = G(sc + Sc32.Dx); regs.Cx = G(sc + Sc32.Cx); regs.Ax = G(sc + Sc32.Ax);
            regs.Ip = G(sc + Sc32.Ip);
            regs.Flags = (regs.Flags & ~FixEflags) | (G(sc + Sc32.Flags) & FixEflags);
            regs.Cs = (G(sc + Sc32.Cs) & 0xFFFF) | 3;
            regs.Ss = (G(sc + Sc32.Ss) & 0xFFFF) | 3;
            ulong mask = rt ? BitConverter.ToUInt64(f, RtFrame32.UcSigmask) : G(sc + Sc32.Oldmask) | (G(Frame32.Extramask) << 32);
            SignalState.Blocked = mask & ~SignalState.Unblockable;
        }
        RecalcSigPending();
        ForceIret();
        regs.OrigAx = unchecked((ulong)-1L);                    // never restart the interrupted call again
        RestartBlock = null;                                    // restart_block.fn = do_no_restart_syscall
        // "return regs->ax": on a 64-bit kernel that is the restored register, zero-extended from the 32-bit sigcontext
        // for a compat task (a 64-bit tracer sees 0x00000000fffffffc, not -4); a 32-bit kernel's ax is 32 bits anyway.
        return KernelBits == 64 ? (long)regs.Ax : (int)regs.Ax;
    }

    private long BadFrame(PtRegs regs)
    {
        // signal_fault(): the frame could not be read; the task gets SIGSEGV.
        ForceSignal(Signal.SIGSEGV);
        return SignedAx(regs);
    }
}
