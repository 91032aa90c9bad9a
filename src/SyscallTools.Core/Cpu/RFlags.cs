namespace SyscallTools.Core.Cpu;

/// <summary>RFLAGS bits (SDM Vol. 1 §3.4.3) and the composites the CPU and kernel use.</summary>
public static class RFlags
{
    public const ulong CF = 1UL << 0;
    public const ulong Fixed = 1UL << 1;
    public const ulong PF = 1UL << 2;
    public const ulong AF = 1UL << 4;
    public const ulong ZF = 1UL << 6;
    public const ulong SF = 1UL << 7;
    public const ulong TF = 1UL << 8;
    public const ulong IF = 1UL << 9;
    public const ulong DF = 1UL << 10;
    public const ulong OF = 1UL << 11;
    public const ulong IOPL = 3UL << 12;
    public const ulong NT = 1UL << 14;
    public const ulong RF = 1UL << 16;
    public const ulong VM = 1UL << 17;
    public const ulong AC = 1UL << 18;
    public const ulong VIF = 1UL << 19;
    public const ulong VIP = 1UL << 20;
    public const ulong ID = 1UL << 21;

    /// <summary>The six status flags the ALU writes.</summary>
    public const ulong Arith = CF | PF | AF | ZF | SF | OF;

    /// <summary>Every bit software can ever see set.</summary>
    public const ulong Defined = Arith | Fixed | TF | IF | DF | IOPL | NT | RF | VM | AC | VIF | VIP | ID;

    /// <summary>The bits SYSRET loads from R11 (SDM: R11 &amp; 3C7FD7H, RF and VM forced clear).</summary>
    public const ulong SysretMask = 0x3C7FD7;

    public static int Iopl(ulong flags) => (int)((flags >> 12) & 3);

    /// <summary>Names the set bits, e.g. "IF|TF", the way a kernel developer reads flags.</summary>
    public static string Describe(ulong flags)
    {
        var names = new List<string>();
        void Add(ulong bit, string name) { if ((flags & bit) != 0) names.Add(name); }
        Add(CF, "CF"); Add(PF, "PF"); Add(AF, "AF"); Add(ZF, "ZF"); Add(SF, "SF"); Add(TF, "TF"); Add(IF, "IF");
        Add(DF, "DF"); Add(OF, "OF"); Add(NT, "NT"); Add(RF, "RF"); Add(VM, "VM"); Add(AC, "AC"); Add(VIF, "VIF");
        Add(VIP, "VIP"); Add(ID, "ID");
        if (Iopl(flags) != 0) names.Add("IOPL" + Iopl(flags));
        return names.Count == 0 ? "0" : string.Join('|', names);
    }
}
