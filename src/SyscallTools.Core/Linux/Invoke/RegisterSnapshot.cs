using SyscallTools.Core.Cpu;

namespace SyscallTools.Core.Linux;

/// <summary>The user-visible registers at one moment, named as pt_regs names them.</summary>
public sealed record RegisterSnapshot
{
    public ulong Ax { get; init; }
    public ulong Bx { get; init; }
    public ulong Cx { get; init; }
    public ulong Dx { get; init; }
    public ulong Si { get; init; }
    public ulong Di { get; init; }
    public ulong Bp { get; init; }
    public ulong Sp { get; init; }
    public ulong R8 { get; init; }
    public ulong R9 { get; init; }
    public ulong R10 { get; init; }
    public ulong R11 { get; init; }
    public ulong R12 { get; init; }
    public ulong R13 { get; init; }
    public ulong R14 { get; init; }
    public ulong R15 { get; init; }
    public ulong Ip { get; init; }
    public ulong Flags { get; init; }
    public ulong Cs { get; init; }
    public ulong Ss { get; init; }
    /// <summary>The data segment selectors (the i386 sigcontext and user_regs_struct carry them; 64-bit code ignores DS/ES).</summary>
    public ulong Ds { get; init; }
    public ulong Es { get; init; }
    public ulong Fs { get; init; }
    public ulong Gs { get; init; }

    public static RegisterSnapshot Of(Cpu.Cpu c) => new()
    {
        Ax = c[Gpr.Rax], Bx = c[Gpr.Rbx], Cx = c[Gpr.Rcx], Dx = c[Gpr.Rdx], Si = c[Gpr.Rsi], Di = c[Gpr.Rdi],
        Bp = c[Gpr.Rbp], Sp = c[Gpr.Rsp], R8 = c[Gpr.R8], R9 = c[Gpr.R9], R10 = c[Gpr.R10], R11 = c[Gpr.R11],
        R12 = c[Gpr.R12], R13 = c[Gpr.R13], R14 = c[Gpr.R14], R15 = c[Gpr.R15], Ip = c.Rip, Flags = c.Rflags,
        Cs = c.GetSegment(SegReg.CS).Selector, Ss = c.GetSegment(SegReg.SS).Selector,
        Ds = c.GetSegment(SegReg.DS).Selector, Es = c.GetSegment(SegReg.ES).Selector,
        Fs = c.GetSegment(SegReg.FS).Selector, Gs = c.GetSegment(SegReg.GS).Selector,
    };

    /// <summary>
    /// The user registers saved in pt_regs (what user space would resume with). A 64-bit kernel's pt_regs has no data
    /// segments — the user's stay live in the CPU — so they are taken from <paramref name="live"/> when given.
    /// </summary>
    public static RegisterSnapshot FromPtRegs(PtRegs r, Cpu.Cpu? live = null)
    {
        ulong G(string n) => r.Has(n) ? r[n] & (n.Length == 2 && n[1] == 's' ? 0xFFFFUL : ulong.MaxValue) : 0;
        ulong S(string n, SegReg reg) => r.Has(n) ? r[n] & 0xFFFF : live?.GetSegment(reg).Selector ?? 0;
        return new RegisterSnapshot
        {
            Ax = G("ax"), Bx = G("bx"), Cx = G("cx"), Dx = G("dx"), Si = G("si"), Di = G("di"), Bp = G("bp"), Sp = G("sp"),
            R8 = G("r8"), R9 = G("r9"), R10 = G("r10"), R11 = G("r11"), R12 = G("r12"), R13 = G("r13"), R14 = G("r14"),
            R15 = G("r15"), Ip = G("ip"), Flags = G("flags"), Cs = G("cs"), Ss = G("ss"),
            Ds = S("ds", SegReg.DS), Es = S("es", SegReg.ES), Fs = S("fs", SegReg.FS), Gs = S("gs", SegReg.GS),
        };
    }

    /// <summary>Register values by pt_regs name, for comparisons and display.</summary>
    public IReadOnlyDictionary<string, ulong> ByName() => new Dictionary<string, ulong>
    {
        ["ax"] = Ax, ["bx"] = Bx, ["cx"] = Cx, ["dx"] = Dx, ["si"] = Si, ["di"] = Di, ["bp"] = Bp, ["sp"] = Sp,
        ["r8"] = R8, ["r9"] = R9, ["r10"] = R10, ["r11"] = R11, ["r12"] = R12, ["r13"] = R13, ["r14"] = R14, ["r15"] = R15,
        ["ip"] = Ip, ["flags"] = Flags, ["cs"] = Cs, ["ss"] = Ss,
    };
}
