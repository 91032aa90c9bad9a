using System.Globalization;
using System.Management.Automation;

namespace SyscallTools;

/// <summary>
/// Lets a register parameter take what a user types: 0xffffffff81000000 (which PowerShell reads as a negative
/// Int64), 4242, or a string "0x8000000000000000". Negative numbers are taken as their 64-bit two's complement.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class RegisterValueTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        object? v = inputData is PSObject p ? p.BaseObject : inputData;
        return v switch
        {
            null => null,
            ulong u => u,
            long l => unchecked((ulong)l),
            int i => unchecked((ulong)(long)i),
            uint ui => (ulong)ui,
            short s => unchecked((ulong)(long)s),
            ushort us => (ulong)us,
            byte b => (ulong)b,
            sbyte sb => unchecked((ulong)(long)sb),
            decimal d when d >= 0 && d <= ulong.MaxValue && decimal.Truncate(d) == d => (ulong)d,
            double dbl when dbl >= 0 && dbl < 18446744073709551616.0 && Math.Truncate(dbl) == dbl => (ulong)dbl,
            string str when TryParse(str, out ulong parsed) => parsed,
            _ => throw new ArgumentTransformationMetadataException(
                $"'{inputData}' is not a register value: use a number such as 0x202, 4242 or 0xffffffff81000000."),
        };
    }

    private static bool TryParse(string s, out ulong value)
    {
        s = s.Trim().Replace("_", "");
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        if (s.StartsWith('-') && long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
        {
            value = unchecked((ulong)l);
            return true;
        }
        return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
