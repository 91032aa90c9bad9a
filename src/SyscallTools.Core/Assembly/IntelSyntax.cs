using System.Globalization;
using System.Text.RegularExpressions;
using Iced.Intel;

namespace SyscallTools.Core.Assembly;

/// <summary>A line of assembly that could not be understood: which line, what it said, and what was expected.</summary>
public sealed class IntelSyntaxException(int line, string source, string problem)
    : FormatException($"line {line}: {problem} (in \"{source.Trim()}\")")
{
    /// <summary>1-based line number within the text given to the assembler.</summary>
    public int Line { get; } = line;
    public string SourceText { get; } = source;
    public string Problem { get; } = problem;
}

/// <summary>
/// A small Intel-syntax assembler for the integer ISA and the system-call instructions, built on Iced: each line is
/// parsed into a mnemonic and operands, matched against Iced's opcode table for the bitness (legacy encodings only),
/// and the shortest encoding is kept; Iced's BlockEncoder lays the block out and resolves labels and branches.
/// </summary>
/// <remarks>
/// Accepted: <c>label:</c> (alone or before an instruction), prefixes <c>lock rep repe repz repne repnz</c>,
/// registers (general, segment, control, debug), immediates (<c>20</c>, <c>-1</c>, <c>0x80</c>, <c>80h</c>,
/// <c>0b101</c>, <c>'A'</c>), memory <c>[size ptr] [seg:][base + index*scale ± disp]</c>, branch targets that are
/// labels or absolute addresses (<c>call 0xb7ff0400</c>), string instructions with no operands (<c>rep movsb</c>),
/// <c>db</c> byte lists, and comments after <c>;</c> or <c>#</c>.
/// </remarks>
public static partial class IntelSyntax
{
    /// <summary>Assembles <paramref name="lines"/> (each may hold several lines) as code placed at <paramref name="address"/>.</summary>
    public static byte[] Assemble(IEnumerable<string> lines, int bitness, ulong address) =>
        AssembleWithLabels(lines, bitness, address).Bytes;

    /// <summary>
    /// Assembles like <see cref="Assemble"/> and also reports where each label landed (absolute addresses), so a
    /// caller can name places in the code it wrote (a probe's return points, its signal handler).
    /// </summary>
    public static (byte[] Bytes, IReadOnlyDictionary<string, ulong> Labels) AssembleWithLabels(IEnumerable<string> lines, int bitness, ulong address)
    {
        var (program, labels) = ParseWithLabels(lines, bitness);
        var writer = new ByteListWriter();
        var block = new InstructionBlock(writer, program.ToList(), address);
        if (!BlockEncoder.TryEncode(bitness, block, out var error, out var results, BlockEncoderOptions.ReturnNewInstructionOffsets))
            throw new IntelSyntaxException(0, "", $"the block could not be encoded: {error}");
        var offsets = results.NewInstructionOffsets;
        var at = new Dictionary<string, ulong>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, index) in labels) at[name] = address + offsets[index];
        return (writer.Bytes.ToArray(), at);
    }

    /// <summary>
    /// Parses to Iced instructions. Each instruction's IP is a placeholder identity (labels and branches refer to
    /// it); BlockEncoder assigns real addresses.
    /// </summary>
    public static IReadOnlyList<Instruction> Parse(IEnumerable<string> lines, int bitness) => ParseWithLabels(lines, bitness).Program;

    private static (IReadOnlyList<Instruction> Program, IReadOnlyDictionary<string, int> Labels) ParseWithLabels(IEnumerable<string> lines, int bitness)
    {
        if (bitness is not (32 or 64)) throw new ArgumentOutOfRangeException(nameof(bitness), "Bitness is 32 or 64.");
        var source = lines.SelectMany(l => (l ?? "").Replace("\r", "").Split('\n')).ToList();

        // Pass 1: statements and label positions.
        var statements = new List<(int Line, string Text, string Body)>();
        var labels = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var labelLines = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < source.Count; i++)
        {
            string body = StripComment(source[i]).Trim();
            while (LabelPattern().Match(body) is { Success: true } m)
            {
                string name = m.Groups[1].Value;
                if (TryRegister(name, out _)) throw new IntelSyntaxException(i + 1, source[i], $"'{name}' is a register name and cannot be a label");
                if (labels.ContainsKey(name))
                    throw new IntelSyntaxException(i + 1, source[i], $"label '{name}' is already defined on line {labelLines[name]}");
                labels[name] = statements.Count;
                labelLines[name] = i + 1;
                body = body[m.Length..].Trim();
            }
            if (body.Length > 0) statements.Add((i + 1, source[i], body));
        }
        // A label after the last instruction still needs something to point at.
        bool padEnd = labels.Values.Any(v => v == statements.Count);
        if (padEnd) statements.Add((source.Count, "nop", "nop"));

        // Placeholder identities: unique per statement, chosen so no absolute target in the text collides with one.
        ulong idBase = bitness == 32 ? 0xFEED_0000UL : 0xFEED_0000_0000_0000UL;
        var program = new List<Instruction>(statements.Count);
        var ctx = new Context(bitness, labels, idBase);
        foreach (var (line, text, body) in statements)
        {
            try { program.Add(ctx.ParseStatement(body)); }
            catch (IntelSyntaxException) { throw; }
            catch (StatementException e) { throw new IntelSyntaxException(line, text, e.Message); }
            catch (ArgumentException e) { throw new IntelSyntaxException(line, text, $"no encoding fits ({e.Message})"); }
        }
        for (int i = 0; i < program.Count; i++)
        {
            var insn = program[i];
            insn.IP = idBase + (ulong)i;
            program[i] = insn;
        }
        foreach (var target in ctx.AbsoluteTargets)
            if (target >= idBase && target < idBase + (ulong)program.Count)
                throw new IntelSyntaxException(0, "", $"absolute target 0x{target:x} collides with the assembler's placeholder addresses");
        return (program, labels);
    }

    private static string StripComment(string line)
    {
        bool inQuote = false;
        for (int i = 0; i < line.Length; i++)
        {
            if (line[i] == '\'') inQuote = !inQuote;
            else if (!inQuote && line[i] is ';' or '#') return line[..i];
        }
        return line;
    }

    [GeneratedRegex(@"^([A-Za-z_.$][\w.$@]*)\s*:(?!\s*\[)")]
    private static partial Regex LabelPattern();

    [GeneratedRegex(@"^(byte|word|dword|qword|fword|tbyte|tword|xmmword)\s+(ptr\s+)?", RegexOptions.IgnoreCase)]
    private static partial Regex SizePattern();

    [GeneratedRegex(@"^(short|near)\s+", RegexOptions.IgnoreCase)]
    private static partial Regex DistancePattern();

    private sealed class StatementException(string message) : Exception(message);

    // ---- operands ----

    private enum OperandKind { Register, Immediate, Memory, Label }

    private sealed record Operand(OperandKind Kind, Register Register = Register.None, long Value = 0, MemoryOperand Memory = default,
        int MemorySize = 0, string? Label = null, bool HasMemoryRegisters = false);

    private static bool TryRegister(string name, out Register reg)
    {
        reg = Register.None;
        string n = name.ToLowerInvariant();
        // Iced names the low byte of r8..r15 "r8l"; the manuals say "r8b".
        if (n.Length >= 3 && n[0] == 'r' && n.EndsWith('b') && int.TryParse(n.AsSpan(1, n.Length - 2), out int rn) && rn is >= 8 and <= 15)
            n = $"r{rn}l";
        // The x87 stack registers: "st" is st(0); the manuals write st(i), Iced names them st0..st7.
        if (n == "st") n = "st0";
        else if (n.Length == 5 && n.StartsWith("st(", StringComparison.Ordinal) && n[4] == ')' && n[3] is >= '0' and <= '7') n = "st" + n[3];
        if (n.Length == 0 || !char.IsLetter(n[0]) || !Enum.TryParse(n, ignoreCase: true, out reg) || !Enum.IsDefined(reg)) return false;
        return reg.IsGPR() || reg.IsXMM() || reg.IsST() || reg.IsSegmentRegister() || reg.IsCR() || reg.IsDR() || reg == Register.RIP || reg == Register.EIP;
    }

    private static readonly Dictionary<string, int> SizeKeywords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["byte"] = 1, ["word"] = 2, ["dword"] = 4, ["fword"] = 6, ["qword"] = 8, ["tbyte"] = 10, ["tword"] = 10, ["xmmword"] = 16,
    };

    internal static bool TryNumber(string text, out long value)
    {
        value = 0;
        string t = text.Trim().Replace("_", "");
        if (t.Length == 0) return false;
        bool negative = false;
        if (t[0] is '-' or '+')
        {
            negative = t[0] == '-';
            t = t[1..].Trim();
        }
        ulong v = 0;
        bool ok;
        if (t.Length == 3 && t[0] == '\'' && t[2] == '\'') { v = t[1]; ok = true; }
        else if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            ok = ulong.TryParse(t.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out v);
        else if (t.StartsWith("0b", StringComparison.OrdinalIgnoreCase))
        {
            ok = t.Length > 2 && t[2..].All(c => c is '0' or '1') && t.Length <= 66;
            v = 0;
            if (ok) v = Convert.ToUInt64(t[2..], 2);
        }
        else if ((t.EndsWith('h') || t.EndsWith('H')) && char.IsDigit(t[0]))
            ok = ulong.TryParse(t.AsSpan(0, t.Length - 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out v);
        else
            ok = t.All(char.IsDigit) && ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        if (!ok) return false;
        value = negative ? unchecked(-(long)v) : unchecked((long)v);
        return true;
    }

    private sealed class Context(int bitness, Dictionary<string, int> labels, ulong idBase)
    {
        public List<ulong> AbsoluteTargets { get; } = new();

        public Instruction ParseStatement(string body)
        {
            var words = body.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries);
            string mnemonicText = words[0].ToLowerInvariant();
            string rest = words.Length > 1 ? words[1].Trim() : "";
            var prefixes = new List<string>();
            while (mnemonicText is "lock" or "rep" or "repe" or "repz" or "repne" or "repnz")
            {
                prefixes.Add(mnemonicText);
                if (rest.Length == 0) throw new StatementException($"expected an instruction after the '{mnemonicText}' prefix");
                words = rest.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries);
                mnemonicText = words[0].ToLowerInvariant();
                rest = words.Length > 1 ? words[1].Trim() : "";
            }

            if (mnemonicText == "db") return DeclareBytes(rest);

            var operands = SplitOperands(rest).Select(ParseOperand).ToList();
            var insn = operands.Count == 0 && StringInstruction(mnemonicText, prefixes) is { } s ? s : Match(mnemonicText, operands);
            foreach (var p in prefixes)
            {
                if (p == "lock") insn.HasLockPrefix = true;
                else if (p is "rep" or "repe" or "repz") insn.HasRepePrefix = true;
                else insn.HasRepnePrefix = true;
            }
            return insn;
        }

        private static Instruction DeclareBytes(string rest)
        {
            var bytes = new List<byte>();
            foreach (var item in SplitOperands(rest))
            {
                if (!TryNumber(item, out long v) || v is < -128 or > 255)
                    throw new StatementException($"expected a byte value (-128..255) in db, found '{item}'");
                bytes.Add(unchecked((byte)v));
            }
            if (bytes.Count is 0 or > 16) throw new StatementException("db takes 1 to 16 byte values");
            return Instruction.CreateDeclareByte(bytes.ToArray());
        }

        private static List<string> SplitOperands(string rest)
        {
            var list = new List<string>();
            if (rest.Length == 0) return list;
            int depth = 0, start = 0;
            bool quote = false;
            for (int i = 0; i < rest.Length; i++)
            {
                char c = rest[i];
                if (c == '\'') quote = !quote;
                else if (quote) continue;
                else if (c == '[') depth++;
                else if (c == ']') depth--;
                else if (c == ',' && depth == 0)
                {
                    list.Add(rest[start..i].Trim());
                    start = i + 1;
                }
            }
            list.Add(rest[start..].Trim());
            if (list.Any(o => o.Length == 0)) throw new StatementException("expected an operand between commas");
            if (depth != 0) throw new StatementException("expected ']' to close the memory operand");
            return list;
        }

        private Operand ParseOperand(string text)
        {
            string t = text;
            int size = 0;
            if (SizePattern().Match(t) is { Success: true } sm)
            {
                size = SizeKeywords[sm.Groups[1].Value];
                t = t[sm.Length..].Trim();
            }
            if (DistancePattern().Match(t) is { Success: true } dm) t = t[dm.Length..].Trim();

            int bracket = t.IndexOf('[');
            if (bracket >= 0)
            {
                if (!t.EndsWith(']')) throw new StatementException($"expected the memory operand '{text}' to end with ']'");
                var seg = Register.None;
                string prefix = t[..bracket].Trim();
                if (prefix.Length > 0)
                {
                    if (!prefix.EndsWith(':') || !TryRegister(prefix[..^1].Trim(), out seg) || !seg.IsSegmentRegister())
                        throw new StatementException($"expected a segment override like 'fs:' before '[', found '{prefix}'");
                }
                return ParseMemory(t[(bracket + 1)..^1], seg, size, text);
            }
            if (size != 0) throw new StatementException($"'{text}': a size keyword (byte/word/dword/qword ptr) needs a memory operand in [brackets]");
            if (TryRegister(t, out var reg))
            {
                if (reg is Register.RIP or Register.EIP) throw new StatementException($"{reg.ToString().ToLowerInvariant()} cannot be an operand");
                if (bitness == 32 && (reg.IsGPR64() || (reg.IsGPR8() && reg >= Register.SPL) || (reg.IsGPR16() && reg >= Register.R8W) || (reg.IsGPR32() && reg >= Register.R8D) || (reg.IsXMM() && reg >= Register.XMM8)))
                    throw new StatementException($"register {t} exists only in 64-bit code");
                return new Operand(OperandKind.Register, Register: reg);
            }
            if (TryNumber(t, out long v)) return new Operand(OperandKind.Immediate, Value: v);
            if (IdentifierPattern().IsMatch(t))
            {
                if (!labels.ContainsKey(t)) throw new StatementException($"unknown label or register '{t}'");
                return new Operand(OperandKind.Label, Label: t);
            }
            throw new StatementException($"expected a register, a number, a label or a memory operand like [ebx+4], found '{text}'");
        }

        private Operand ParseMemory(string inner, Register seg, int size, string text)
        {
            var b = Register.None;
            var index = Register.None;
            int scale = 1;
            long displ = 0;
            bool anyDispl = false;
            foreach (var (sign, term) in Terms(inner, text))
            {
                if (term.Contains('*'))
                {
                    var parts = term.Split('*', StringSplitOptions.TrimEntries);
                    if (parts.Length != 2) throw new StatementException($"expected 'register*scale' in '{text}'");
                    string regText = TryRegister(parts[0], out _) ? parts[0] : parts[1];
                    string scaleText = ReferenceEquals(regText, parts[0]) ? parts[1] : parts[0];
                    if (!TryRegister(regText, out var r) || !r.IsGPR()) throw new StatementException($"expected an index register in '{term}'");
                    if (!TryNumber(scaleText, out long sc) || sc is not (1 or 2 or 4 or 8)) throw new StatementException($"the scale in '{term}' must be 1, 2, 4 or 8");
                    if (sign < 0) throw new StatementException($"an index register cannot be subtracted ('{text}')");
                    if (index != Register.None) throw new StatementException($"'{text}' has two index registers");
                    index = r;
                    scale = (int)sc;
                }
                else if (TryRegister(term, out var r))
                {
                    if (r is Register.RIP or Register.EIP) throw new StatementException("rip-relative addressing is not supported; use an absolute address");
                    if (!r.IsGPR()) throw new StatementException($"'{term}' cannot address memory; use a general register");
                    if (sign < 0) throw new StatementException($"a register cannot be subtracted ('{text}')");
                    if (b == Register.None) b = r;
                    else if (index == Register.None) index = r;
                    else throw new StatementException($"'{text}' has more than two registers");
                }
                else if (TryNumber(term, out long d))
                {
                    displ += sign * d;
                    anyDispl = true;
                }
                else throw new StatementException($"expected a register or a number inside [ ], found '{term}'");
            }
            foreach (var r in new[] { b, index })
            {
                if (r == Register.None) continue;
                if (r.IsGPR8() || r.IsGPR16()) throw new StatementException($"'{r.ToString().ToLowerInvariant()}' cannot address memory in {bitness}-bit code; use a {bitness}-bit register");
                if (bitness == 32 && r.IsGPR64()) throw new StatementException($"register {r.ToString().ToLowerInvariant()} exists only in 64-bit code");
            }
            if (b != Register.None && index != Register.None && b.IsGPR32() != index.IsGPR32())
                throw new StatementException($"'{text}' mixes 32- and 64-bit address registers");
            if (index is Register.ESP or Register.RSP)
            {
                if (scale != 1 || b is Register.ESP or Register.RSP) throw new StatementException($"{index.ToString().ToLowerInvariant()} cannot be an index register");
                (b, index) = (index, b);
            }
            bool hasRegs = b != Register.None || index != Register.None;
            if (!hasRegs)
            {
                if (!anyDispl) throw new StatementException($"'{text}' names no address");
                AbsoluteCheck(displ);
            }
            // Iced takes a 32-bit displacement signed when it is added to registers, unsigned when it is the address.
            if (!hasRegs && bitness == 32) displ = (long)(uint)displ;
            else if (bitness == 32 || b.IsGPR32() || index.IsGPR32()) displ = (int)(uint)displ;
            int displSize = hasRegs ? (displ == 0 ? 0 : 1) : bitness / 8;
            var mem = new MemoryOperand(b, index, scale, displ, displSize, false, seg);
            return new Operand(OperandKind.Memory, Memory: mem, MemorySize: size, HasMemoryRegisters: hasRegs);
        }

        private void AbsoluteCheck(long displ)
        {
            if (bitness == 32 && displ is < int.MinValue or > uint.MaxValue) throw new StatementException($"address 0x{displ:x} does not fit in 32 bits");
        }

        private static IEnumerable<(int Sign, string Term)> Terms(string inner, string text)
        {
            int sign = 1, start = 0;
            string s = inner.Trim();
            if (s.Length == 0) throw new StatementException($"'{text}' is empty");
            if (s[0] is '-' or '+') { sign = s[0] == '-' ? -1 : 1; start = 1; }
            for (int i = start; i <= s.Length; i++)
            {
                if (i == s.Length || s[i] is '+' or '-')
                {
                    string term = s[start..i].Trim();
                    if (term.Length == 0) throw new StatementException($"expected a term between operators in '{text}'");
                    yield return (sign, term);
                    if (i < s.Length) sign = s[i] == '-' ? -1 : 1;
                    start = i + 1;
                }
            }
        }

        // ---- mnemonic and encoding selection ----

        private Mnemonic ResolveMnemonic(string text)
        {
            if (Aliases.TryGetValue(text, out var alias)) text = alias;
            if (text == "iret") text = "iretd";
            if (text == "pushf") text = bitness == 64 ? "pushfq" : "pushfd";
            if (text == "popf") text = bitness == 64 ? "popfq" : "popfd";
            if (text == "pusha") text = "pushad";
            if (text == "popa") text = "popad";
            if (!char.IsLetter(text[0]) || !Enum.TryParse<Mnemonic>(text, ignoreCase: true, out var m) || m == Mnemonic.INVALID || !Enum.IsDefined(m))
                throw new StatementException($"unknown instruction '{text}'");
            return m;
        }

        private Instruction? StringInstruction(string text, List<string> prefixes)
        {
            var rep = prefixes.Contains("repne") || prefixes.Contains("repnz") ? RepPrefixKind.Repne
                : prefixes.Any(p => p.StartsWith("rep", StringComparison.Ordinal)) ? RepPrefixKind.Repe : RepPrefixKind.None;
            prefixes.RemoveAll(p => p.StartsWith("rep", StringComparison.Ordinal));
            int a = bitness;
            return text switch
            {
                "movsb" => Instruction.CreateMovsb(a, Register.None, rep),
                "movsw" => Instruction.CreateMovsw(a, Register.None, rep),
                "movsd" => Instruction.CreateMovsd(a, Register.None, rep),
                "movsq" when a == 64 => Instruction.CreateMovsq(a, Register.None, rep),
                "stosb" => Instruction.CreateStosb(a, rep),
                "stosw" => Instruction.CreateStosw(a, rep),
                "stosd" => Instruction.CreateStosd(a, rep),
                "stosq" when a == 64 => Instruction.CreateStosq(a, rep),
                "lodsb" => Instruction.CreateLodsb(a, Register.None, rep),
                "lodsw" => Instruction.CreateLodsw(a, Register.None, rep),
                "lodsd" => Instruction.CreateLodsd(a, Register.None, rep),
                "lodsq" when a == 64 => Instruction.CreateLodsq(a, Register.None, rep),
                "scasb" => Instruction.CreateScasb(a, rep),
                "scasw" => Instruction.CreateScasw(a, rep),
                "scasd" => Instruction.CreateScasd(a, rep),
                "scasq" when a == 64 => Instruction.CreateScasq(a, rep),
                "cmpsb" => Instruction.CreateCmpsb(a, Register.None, rep),
                "cmpsw" => Instruction.CreateCmpsw(a, Register.None, rep),
                "cmpsd" => Instruction.CreateCmpsd(a, Register.None, rep),
                "cmpsq" when a == 64 => Instruction.CreateCmpsq(a, Register.None, rep),
                _ => RestorePrefixes(prefixes, rep),
            };
        }

        private static Instruction? RestorePrefixes(List<string> prefixes, RepPrefixKind rep)
        {
            if (rep == RepPrefixKind.Repe) prefixes.Add("rep");
            if (rep == RepPrefixKind.Repne) prefixes.Add("repne");
            return null;
        }

        private Instruction Match(string text, List<Operand> operands)
        {
            var mnemonic = ResolveMnemonic(text);
            // mov to or from a segment register names a 16-bit register; the encoding without 66h takes its 32-bit name.
            if (mnemonic == Mnemonic.Mov && operands.Count == 2 && operands.Any(o => o.Kind == OperandKind.Register && o.Register.IsSegmentRegister()))
                operands = operands.Select(o => o.Kind == OperandKind.Register && o.Register.IsGPR16() ? o with { Register = o.Register.GetFullRegister32() } : o).ToList();
            if (!Table(bitness).TryGetValue(mnemonic, out var codes))
                throw new StatementException($"'{text}' is not available in {bitness}-bit code");
            var candidates = new List<(Instruction Insn, int Length, bool Branch)>();
            string? why = null;
            foreach (var op in codes)
            {
                if (op.OpCount != operands.Count) continue;
                bool ok = true, branch = false;
                for (int i = 0; i < operands.Count && ok; i++)
                {
                    var k = op.GetOpKind(i);
                    ok = Fits(operands[i], k, ref branch);
                }
                if (!ok) continue;
                Instruction insn;
                try { insn = Create(op, operands, branch); }
                catch (ArgumentException e) { why ??= e.Message; continue; }
                if (operands.FirstOrDefault(o => o.Kind == OperandKind.Memory) is { } mo)
                {
                    int codeSize = op.MemorySize.GetSize();
                    if (mo.MemorySize != 0 && codeSize != 0 && mo.MemorySize != codeSize) continue;
                }
                int length = branch ? (IsShortBranch(op) ? 0 : 1) : EncodedLength(insn);
                if (length < 0) continue;
                candidates.Add((insn, length, branch));
            }
            if (candidates.Count == 0)
                throw new StatementException(why is not null ? $"operand out of range for '{text}': {why}"
                    : $"no form of '{text}' takes {Describe(operands)} in {bitness}-bit code");

            // A memory operand with no size keyword must not leave the operand size to chance.
            var mem = operands.FirstOrDefault(o => o.Kind == OperandKind.Memory);
            if (mem is not null && mem.MemorySize == 0)
            {
                var sizes = candidates.Select(c => c.Insn.MemorySize.GetSize()).Distinct().ToList();
                if (sizes.Count > 1)
                {
                    // push/pop/call/jmp through memory default to the stack width, as assemblers do.
                    var natural = candidates.Where(c => c.Insn.MemorySize.GetSize() == bitness / 8).ToList();
                    if (natural.Count > 0 && IsStackOrBranch(mnemonic)) candidates = natural;
                    else throw new StatementException($"the operand size of '{text}' is ambiguous; say byte, word, dword or qword ptr");
                }
            }
            // push imm: the shortest form may be PUSHW (66h), which moves the stack by 2; assemblers push the stack width.
            if (mnemonic == Mnemonic.Push && operands.Count == 1 && operands[0].Kind == OperandKind.Immediate)
            {
                var natural = candidates.Where(c => c.Insn.StackPointerIncrement == -(bitness / 8)).ToList();
                if (natural.Count > 0) candidates = natural;
            }
            return candidates.OrderBy(c => c.Length).First().Insn;
        }

        private static bool IsStackOrBranch(Mnemonic m) => m is Mnemonic.Push or Mnemonic.Pop or Mnemonic.Call or Mnemonic.Jmp;

        private static bool IsShortBranch(OpCodeInfo op) =>
            Enumerable.Range(0, op.OpCount).Any(i => op.GetOpKind(i) is OpCodeOperandKind.br32_1 or OpCodeOperandKind.br64_1 or OpCodeOperandKind.br16_1);

        private static string Describe(List<Operand> operands) =>
            operands.Count == 0 ? "no operands" : string.Join(", ", operands.Select(o => o.Kind switch
            {
                OperandKind.Register => o.Register.ToString().ToLowerInvariant(),
                OperandKind.Immediate => "an immediate",
                OperandKind.Memory => o.MemorySize == 0 ? "memory" : $"{o.MemorySize}-byte memory",
                _ => "a label",
            }));

        private int EncodedLength(Instruction insn)
        {
            var encoder = Encoder.Create(bitness, new ByteListWriter());
            return encoder.TryEncode(insn, 0x1000, out uint len, out _) ? (int)len : -1;
        }

        private bool Fits(Operand o, OpCodeOperandKind k, ref bool branch)
        {
            switch (o.Kind)
            {
                case OperandKind.Register:
                    var r = o.Register;
                    return k switch
                    {
                        OpCodeOperandKind.r8_reg or OpCodeOperandKind.r8_opcode or OpCodeOperandKind.r8_or_mem => r.IsGPR8(),
                        OpCodeOperandKind.r16_reg or OpCodeOperandKind.r16_reg_mem or OpCodeOperandKind.r16_rm or OpCodeOperandKind.r16_opcode or OpCodeOperandKind.r16_or_mem => r.IsGPR16(),
                        OpCodeOperandKind.r32_reg or OpCodeOperandKind.r32_reg_mem or OpCodeOperandKind.r32_rm or OpCodeOperandKind.r32_opcode or OpCodeOperandKind.r32_or_mem => r.IsGPR32(),
                        OpCodeOperandKind.r64_reg or OpCodeOperandKind.r64_reg_mem or OpCodeOperandKind.r64_rm or OpCodeOperandKind.r64_opcode or OpCodeOperandKind.r64_or_mem => r.IsGPR64(),
                        OpCodeOperandKind.xmm_reg or OpCodeOperandKind.xmm_rm or OpCodeOperandKind.xmm_or_mem => r.IsXMM(),
                        OpCodeOperandKind.st0 => r == Register.ST0,
                        OpCodeOperandKind.sti_opcode => r.IsST(),
                        OpCodeOperandKind.seg_reg => r.IsSegmentRegister(),
                        OpCodeOperandKind.cr_reg => r.IsCR(),
                        OpCodeOperandKind.dr_reg => r.IsDR(),
                        OpCodeOperandKind.al => r == Register.AL,
                        OpCodeOperandKind.cl => r == Register.CL,
                        OpCodeOperandKind.ax => r == Register.AX,
                        OpCodeOperandKind.dx => r == Register.DX,
                        OpCodeOperandKind.eax => r == Register.EAX,
                        OpCodeOperandKind.rax => r == Register.RAX,
                        OpCodeOperandKind.es => r == Register.ES,
                        OpCodeOperandKind.cs => r == Register.CS,
                        OpCodeOperandKind.ss => r == Register.SS,
                        OpCodeOperandKind.ds => r == Register.DS,
                        OpCodeOperandKind.fs => r == Register.FS,
                        OpCodeOperandKind.gs => r == Register.GS,
                        _ => false,
                    };
                case OperandKind.Memory:
                    if (k == OpCodeOperandKind.mem_offs) return !o.HasMemoryRegisters;
                    return k is OpCodeOperandKind.mem or OpCodeOperandKind.r8_or_mem or OpCodeOperandKind.r16_or_mem
                        or OpCodeOperandKind.r32_or_mem or OpCodeOperandKind.r64_or_mem or OpCodeOperandKind.xmm_or_mem;
                case OperandKind.Label:
                    branch = true;
                    return IsBranchKind(k);
                default:
                    if (IsBranchKind(k)) { branch = true; return true; }
                    long v = o.Value;
                    return k switch
                    {
                        OpCodeOperandKind.imm8 => v is >= -128 and <= 255,
                        OpCodeOperandKind.imm8_const_1 => v == 1,
                        OpCodeOperandKind.imm8sex16 => (short)v is >= -128 and <= 127 && v is >= short.MinValue and <= ushort.MaxValue,
                        OpCodeOperandKind.imm8sex32 => (int)v is >= -128 and <= 127 && v is >= int.MinValue and <= uint.MaxValue,
                        OpCodeOperandKind.imm8sex64 => v is >= -128 and <= 127,
                        OpCodeOperandKind.imm16 => v is >= short.MinValue and <= ushort.MaxValue,
                        OpCodeOperandKind.imm32 => v is >= int.MinValue and <= uint.MaxValue,
                        OpCodeOperandKind.imm32sex64 => v is >= int.MinValue and <= int.MaxValue,
                        OpCodeOperandKind.imm64 => true,
                        _ => false,
                    };
            }
        }

        private bool IsBranchKind(OpCodeOperandKind k) => bitness == 32
            ? k is OpCodeOperandKind.br32_1 or OpCodeOperandKind.br32_4
            : k is OpCodeOperandKind.br64_1 or OpCodeOperandKind.br64_4;

        private Instruction Create(OpCodeInfo op, List<Operand> operands, bool branch)
        {
            var code = op.Code;
            if (branch)
            {
                var target = operands[^1];
                ulong t;
                if (target.Kind == OperandKind.Label) t = idBase + (ulong)labels[target.Label!];
                else
                {
                    t = bitness == 32 ? (uint)target.Value : (ulong)target.Value;
                    AbsoluteTargets.Add(t);
                }
                if (operands.Count != 1) throw new StatementException("a branch takes one target");
                return Instruction.CreateBranch(code, t);
            }
            // Immediates: sign-extended forms take the value as the operand width sees it.
            int Imm(int i)
            {
                long v = operands[i].Value;
                return op.GetOpKind(i) switch
                {
                    OpCodeOperandKind.imm8sex16 => (short)v,
                    OpCodeOperandKind.imm8sex32 => (int)v,
                    OpCodeOperandKind.imm8 => v > 127 ? (int)(sbyte)(byte)v : (int)v,
                    OpCodeOperandKind.imm16 => v > short.MaxValue ? (short)(ushort)v : (int)v,
                    _ => unchecked((int)v),
                };
            }
            var o = operands;
            return o.Count switch
            {
                0 => Instruction.Create(code),
                1 => o[0].Kind switch
                {
                    OperandKind.Register => Instruction.Create(code, o[0].Register),
                    OperandKind.Memory => Instruction.Create(code, o[0].Memory),
                    _ => Instruction.Create(code, Imm(0)),
                },
                2 => (o[0].Kind, o[1].Kind) switch
                {
                    (OperandKind.Register, OperandKind.Register) => Instruction.Create(code, o[0].Register, o[1].Register),
                    (OperandKind.Register, OperandKind.Memory) => Instruction.Create(code, o[0].Register, o[1].Memory),
                    (OperandKind.Memory, OperandKind.Register) => Instruction.Create(code, o[0].Memory, o[1].Register),
                    (OperandKind.Register, OperandKind.Immediate) when op.GetOpKind(1) == OpCodeOperandKind.imm64 => Instruction.Create(code, o[0].Register, o[1].Value),
                    (OperandKind.Register, OperandKind.Immediate) when op.GetOpKind(1) is OpCodeOperandKind.imm32 or OpCodeOperandKind.imm32sex64 && o[1].Value > int.MaxValue
                        => Instruction.Create(code, o[0].Register, (uint)o[1].Value),
                    (OperandKind.Register, OperandKind.Immediate) => Instruction.Create(code, o[0].Register, Imm(1)),
                    (OperandKind.Memory, OperandKind.Immediate) when op.GetOpKind(1) == OpCodeOperandKind.imm32 && o[1].Value > int.MaxValue
                        => Instruction.Create(code, o[0].Memory, (uint)o[1].Value),
                    (OperandKind.Memory, OperandKind.Immediate) => Instruction.Create(code, o[0].Memory, Imm(1)),
                    (OperandKind.Immediate, OperandKind.Register) => Instruction.Create(code, Imm(0), o[1].Register),
                    (OperandKind.Immediate, OperandKind.Immediate) => Instruction.Create(code, Imm(0), Imm(1)),
                    _ => throw new StatementException("unsupported operand combination"),
                },
                3 => (o[0].Kind, o[1].Kind, o[2].Kind) switch
                {
                    (OperandKind.Register, OperandKind.Register, OperandKind.Immediate) => Instruction.Create(code, o[0].Register, o[1].Register, Imm(2)),
                    (OperandKind.Register, OperandKind.Memory, OperandKind.Immediate) => Instruction.Create(code, o[0].Register, o[1].Memory, Imm(2)),
                    (OperandKind.Memory, OperandKind.Register, OperandKind.Immediate) => Instruction.Create(code, o[0].Memory, o[1].Register, Imm(2)),
                    (OperandKind.Register, OperandKind.Register, OperandKind.Register) => Instruction.Create(code, o[0].Register, o[1].Register, o[2].Register),
                    (OperandKind.Memory, OperandKind.Register, OperandKind.Register) => Instruction.Create(code, o[0].Memory, o[1].Register, o[2].Register),
                    _ => throw new StatementException("unsupported operand combination"),
                },
                _ => throw new StatementException("too many operands"),
            };
        }
    }

    [GeneratedRegex(@"^[A-Za-z_.$][\w.$@]*$")]
    private static partial Regex IdentifierPattern();

    private static readonly Dictionary<string, string> Aliases = BuildAliases();

    private static Dictionary<string, string> BuildAliases()
    {
        var cc = new Dictionary<string, string>
        {
            ["z"] = "e", ["nz"] = "ne", ["c"] = "b", ["nae"] = "b", ["nc"] = "ae", ["nb"] = "ae", ["na"] = "be",
            ["nbe"] = "a", ["pe"] = "p", ["po"] = "np", ["nge"] = "l", ["nl"] = "ge", ["ng"] = "le", ["nle"] = "g",
        };
        var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["sysretl"] = "sysret", ["sysexitl"] = "sysexit", ["retn"] = "ret", ["iretl"] = "iretd",
            ["cqo"] = "cqo", ["int1"] = "int1", ["icebp"] = "int1",
        };
        foreach (var (alias, canonical) in cc)
            foreach (var prefix in new[] { "j", "set", "cmov" })
                d[prefix + alias] = prefix + canonical;
        return d;
    }

    private static readonly Dictionary<Mnemonic, List<OpCodeInfo>>[] Tables = new Dictionary<Mnemonic, List<OpCodeInfo>>[2];

    /// <summary>Legacy-encoded instructions valid in the mode, by mnemonic, in Iced's Code order.</summary>
    private static Dictionary<Mnemonic, List<OpCodeInfo>> Table(int bitness)
    {
        int slot = bitness == 64 ? 1 : 0;
        var t = Volatile.Read(ref Tables[slot]);
        if (t is not null) return t;
        t = new Dictionary<Mnemonic, List<OpCodeInfo>>();
        foreach (var code in Enum.GetValues<Code>())
        {
            if (code == Code.INVALID) continue;
            var op = code.ToOpCode();
            if (!op.IsInstruction || op.Encoding != EncodingKind.Legacy || op.DecoderOption != DecoderOptions.None) continue;
            if (bitness == 64 ? !op.Mode64 : !op.Mode32) continue;
            // Operand-size-16 forms of branches and far forms stay out: this assembler speaks 32- and 64-bit code.
            if (op.Mnemonic == Mnemonic.INVALID) continue;
            if (!t.TryGetValue(op.Mnemonic, out var list)) t[op.Mnemonic] = list = new();
            list.Add(op);
        }
        Volatile.Write(ref Tables[slot], t);
        return t;
    }
}
