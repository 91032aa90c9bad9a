namespace SyscallTools.Core.Linux;

/// <summary>
/// Offsets of the signal frames and contexts user space sees (arch/x86/include/uapi/asm/sigcontext.h,
/// arch/x86/include/asm/sigframe.h). sc.fpstate points at the FPU state below the frame (LinuxMachine.FpuFrame.cs).
/// </summary>
public static class SignalFrames
{
    /// <summary>struct sigcontext_32 (88 bytes).</summary>
    public static class Sc32
    {
        public const int Gs = 0, Fs = 4, Es = 8, Ds = 12, Di = 16, Si = 20, Bp = 24, Sp = 28, Bx = 32, Dx = 36, Cx = 40, Ax = 44,
            Trapno = 48, Err = 52, Ip = 56, Cs = 60, Flags = 64, SpAtSignal = 68, Ss = 72, Fpstate = 76, Oldmask = 80, Cr2 = 84, Size = 88;
    }

    /// <summary>struct sigcontext (64-bit, 256 bytes).</summary>
    public static class Sc64
    {
        public const int R8 = 0, R9 = 8, R10 = 16, R11 = 24, R12 = 32, R13 = 40, R14 = 48, R15 = 56, Di = 64, Si = 72, Bp = 80,
            Bx = 88, Dx = 96, Ax = 104, Cx = 112, Sp = 120, Ip = 128, Flags = 136, Cs = 144, Gs = 146, Fs = 148, Ss = 150,
            Err = 152, Trapno = 160, Oldmask = 168, Cr2 = 176, Fpstate = 184, Size = 256;
    }

    /// <summary>struct sigframe_ia32: pretcode, sig, sc, fpstate_unused (624), extramask, retcode[8].</summary>
    public static class Frame32
    {
        public const int Pretcode = 0, Sig = 4, Sc = 8, Extramask = Sc + Sc32.Size + 624, Retcode = Extramask + 4, Size = Retcode + 8;
    }

    /// <summary>struct rt_sigframe_ia32: pretcode, sig, pinfo, puc, info (128), uc (ucontext_ia32: flags, link, stack, mcontext, sigmask), retcode.</summary>
    public static class RtFrame32
    {
        public const int Pretcode = 0, Sig = 4, Pinfo = 8, Puc = 12, Info = 16, Uc = Info + 128,
            UcFlags = Uc, UcLink = Uc + 4, UcStack = Uc + 8, UcMcontext = Uc + 20, UcSigmask = UcMcontext + Sc32.Size,
            Retcode = UcSigmask + 8, Size = Retcode + 8;
    }

    /// <summary>struct rt_sigframe (64-bit): pretcode, uc (flags, link, stack, mcontext, sigmask), info.</summary>
    public static class RtFrame64
    {
        public const int Pretcode = 0, Uc = 8, UcFlags = Uc, UcLink = Uc + 8, UcStack = Uc + 16, UcMcontext = Uc + 40,
            UcSigmask = UcMcontext + Sc64.Size, Info = UcSigmask + 8, Size = Info + 128;
    }

    // siginfo_t: si_signo, si_errno, si_code, then the union — at 12 on i386, at 16 on x86-64, where
    // __ARCH_SI_PREAMBLE_SIZE is 4 * sizeof(int) so that the union's pointers are 8-byte aligned.
    public const int SiSigno = 0, SiErrno = 4, SiCode = 8;
    /// <summary>Where siginfo's union (_sifields) starts for a task of this bitness.</summary>
    public static int SiFields(int bitness) => bitness == 64 ? 16 : 12;
    /// <summary>Offsets inside the union: _kill {si_pid, si_uid}, _sigfault {si_addr}.</summary>
    public const int SiPid = 0, SiUid = 4, SiAddr = 0;
    public const int SiUser = 0, SiKernel = 0x80, SiTkill = -6;
    /// <summary>SEGV_MAPERR, SEGV_ACCERR; TRAP_BRKPT, TRAP_TRACE (include/uapi/asm-generic/siginfo.h).</summary>
    public const int SegvMaperr = 1, SegvAccerr = 2, TrapBrkpt = 1, TrapTrace = 2;
    public const ulong UcSigcontextSs = 2, UcStrictRestoreSs = 4;
    /// <summary>X86_TRAP_IRET: the software trap number a 32-bit kernel reports for a faulting IRET (do_iret_error).</summary>
    public const int TrapIret = 32;
    /// <summary>ILL_BADSTK: "internal stack error", do_iret_error's si_code.</summary>
    public const int IllBadstk = 8;
    /// <summary>ILL_ILLOPN (#UD), FPE_INTDIV (#DE), BUS_ADRALN (#AC): do_error_trap's si_codes (siginfo.h).</summary>
    public const int IllIllopn = 2, FpeIntdiv = 1, BusAdraln = 1;
}
