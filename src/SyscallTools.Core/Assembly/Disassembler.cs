using Iced.Intel;

namespace SyscallTools.Core.Assembly;

/// <summary>Formats instructions the way the Intel manuals write them (Iced's Intel formatter).</summary>
public static class Disassembler
{
    [ThreadStatic] private static IntelFormatter? _formatter;
    [ThreadStatic] private static StringOutput? _output;

    internal static string Format(in Instruction insn)
    {
        _formatter ??= new IntelFormatter(new FormatterOptions
        {
            HexPrefix = "0x", HexSuffix = "", UppercaseHex = false, SpaceAfterOperandSeparator = true,
            BranchLeadingZeros = false, LeadingZeros = false,
        });
        _output ??= new StringOutput();
        _formatter.Format(insn, _output);
        return _output.ToStringAndReset();
    }

    /// <summary>Disassembles a byte sequence starting at an address; one line per instruction.</summary>
    public static IReadOnlyList<(ulong Address, int Length, string Text)> Disassemble(ReadOnlySpan<byte> code, ulong address, int bitness)
    {
        var list = new List<(ulong, int, string)>();
        var decoder = Decoder.Create(bitness, new ByteArrayCodeReader(code.ToArray()), address);
        ulong end = address + (ulong)code.Length;
        while (decoder.IP < end)
        {
            decoder.Decode(out var insn);
            list.Add((insn.IP, insn.Length, insn.Code == Code.INVALID ? "(bad)" : Format(insn)));
            if (insn.Length == 0) break;
        }
        return list;
    }
}
