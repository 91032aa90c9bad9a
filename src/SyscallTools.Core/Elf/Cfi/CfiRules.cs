namespace SyscallTools.Core.Elf.Cfi;

/// <summary>How the CFA (the caller's stack pointer) is computed at one address.</summary>
public enum CfaRuleKind { RegisterOffset, Expression }

/// <summary>The CFA rule: register + offset, or a DWARF expression whose result is the CFA.</summary>
public sealed record CfaRule(CfaRuleKind Kind, int Register, long Offset, byte[]? Expression)
{
    public static CfaRule At(int register, long offset) => new(CfaRuleKind.RegisterOffset, register, offset, null);

    /// <summary>As readelf --debug-dump=frames-interp writes it: "esp+16" or "exp".</summary>
    public override string ToString() =>
        Kind == CfaRuleKind.Expression ? "exp" : $"{Dwarf.RegisterName(Register)}{(Offset < 0 ? "-" : "+")}{Math.Abs(Offset)}";
}

/// <summary>DWARF register rules (DWARF 4 §6.4.1).</summary>
public enum RegisterRuleKind { Undefined, SameValue, Offset, ValOffset, Register, Expression, ValExpression }

/// <summary>Where the caller's value of one register is: e.g. Offset -8 = saved at CFA-8.</summary>
public sealed record RegisterRule(RegisterRuleKind Kind, long Offset = 0, int Register = 0, byte[]? Expression = null)
{
    public static readonly RegisterRule Undefined = new(RegisterRuleKind.Undefined);
    public static readonly RegisterRule SameValue = new(RegisterRuleKind.SameValue);

    /// <summary>As readelf writes it: "u", "s", "c-8", "v+8", "ebp", "exp", "vexp".</summary>
    public override string ToString() => Kind switch
    {
        RegisterRuleKind.Undefined => "u",
        RegisterRuleKind.SameValue => "s",
        RegisterRuleKind.Offset => $"c{(Offset < 0 ? "-" : "+")}{Math.Abs(Offset)}",
        RegisterRuleKind.ValOffset => $"v{(Offset < 0 ? "-" : "+")}{Math.Abs(Offset)}",
        RegisterRuleKind.Register => Dwarf.RegisterName(Register),
        RegisterRuleKind.Expression => "exp",
        _ => "vexp",
    };

    public bool Equals(RegisterRule? other) =>
        other is not null && Kind == other.Kind && Offset == other.Offset && Register == other.Register
        && (Expression ?? []).AsSpan().SequenceEqual(other.Expression ?? []);

    public override int GetHashCode() => HashCode.Combine(Kind, Offset, Register);
}

/// <summary>
/// One row of the CFI table: for addresses [Start, End) the CFA rule and the rules of the registers the FDE
/// mentions so far (a register not in <see cref="Registers"/> keeps its value: same value).
/// </summary>
public sealed record CfiRow(ulong Start, ulong End, CfaRule Cfa, IReadOnlyDictionary<int, RegisterRule> Registers)
{
    /// <summary>The rule for a register: the row's, else same value.</summary>
    public RegisterRule Rule(int register) => Registers.TryGetValue(register, out var r) ? r : RegisterRule.SameValue;

    /// <summary>"0x5e3: CFA=esp+16 ecx=c-8 edx=c-12 ebp=c-16 eip=c-4".</summary>
    public override string ToString() =>
        $"0x{Start:x}: CFA={Cfa}" + string.Concat(Registers.OrderBy(kv => kv.Key).Select(kv => $" {Dwarf.RegisterName(kv.Key)}={kv.Value}"));
}
