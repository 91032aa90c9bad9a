using System.Collections.Concurrent;
using SyscallTools.Core.Cpu.Compiler;
using SyscallTools.Core.Cpu.Decoding;
using SyscallTools.Core.Memory;

namespace SyscallTools.Core.Cpu;

/// <summary>When the fast path hands a block to the block compiler, and the compiled code shared between machines.</summary>
public sealed partial class Cpu
{
    /// <summary>
    /// The default for <see cref="CompileThreshold"/>: the environment variable SYSCALLTOOLS_COMPILE ("off", or a
    /// number of executions), else 16. Set it to 0 to translate every block on its first run (the equivalence tests do).
    /// </summary>
    public static int DefaultCompileThreshold { get; } = ReadDefaultThreshold();

    /// <summary>
    /// How many times the fast path interprets a block before translating it (0: at once; negative: never, the
    /// interpreter alone). Translated and interpreted blocks have the same effect, instruction for instruction.
    /// </summary>
    public int CompileThreshold { get; set; } = ThresholdOverride.Value ?? DefaultCompileThreshold;

    private static readonly AsyncLocal<int?> ThresholdOverride = new();

    /// <summary>
    /// Every CPU made on this logical flow (thread or async context) until the scope is disposed starts with
    /// <paramref name="threshold"/>: how a test or a caller runs whole machines with the interpreter alone (-1) or
    /// everything compiled (0) without touching other flows.
    /// </summary>
    public static IDisposable UseCompileThreshold(int threshold)
    {
        var previous = ThresholdOverride.Value;
        ThresholdOverride.Value = threshold;
        return new Restore(previous);
    }

    private sealed class Restore(int? previous) : IDisposable
    {
        public void Dispose() => ThresholdOverride.Value = previous;
    }

    /// <summary>Blocks this CPU has run as compiled code (translated here or taken from the shared cache).</summary>
    public int CompiledBlockCount { get; private set; }

    private static int ReadDefaultThreshold()
    {
        var v = Environment.GetEnvironmentVariable("SYSCALLTOOLS_COMPILE");
        if (string.Equals(v, "off", StringComparison.OrdinalIgnoreCase)) return -1;
        return int.TryParse(v, out int n) ? n : 16;
    }

    /// <summary>
    /// Compiled code by (code size, start address, instruction bytes): a machine re-uses what another translated
    /// (every machine runs the same kernel entry stubs and vDSO). Bounded, so random code cannot grow it forever.
    /// </summary>
    private static readonly ConcurrentDictionary<string, CompiledCode> SharedCode = new(StringComparer.Ordinal);
    private const int SharedCodeLimit = 20_000;

    /// <summary>Gives a hot block its compiled code, or marks it as not worth translating.</summary>
    private void Compile(Block b)
    {
        int bitness = b.Mode.CodeBitness();
        if (bitness == 16 || b.Ops.Length == 0 || !BlockCompiler.Worthwhile(b.Ops)) { b.NoCompile = true; return; }
        string? key = CodeKey(b, bitness);
        if (key is null) { b.NoCompile = true; return; }
        if (!SharedCode.TryGetValue(key, out var code))
        {
            code = BlockCompiler.Compile(b.Ops, b.Start, bitness, $"block_{bitness}_{b.Start:x}");
            if (SharedCode.Count < SharedCodeLimit) code = SharedCode.GetOrAdd(key, code);
        }
        b.Compiled = code;
        CompiledBlockCount++;
    }

    /// <summary>The bytes the block was decoded from (its page is unchanged while it is valid), with bitness and start.</summary>
    private string? CodeKey(Block b, int bitness)
    {
        var sb = new System.Text.StringBuilder(64);
        sb.Append(bitness).Append(':').Append(b.Start.ToString("x")).Append(':');
        foreach (var op in b.Ops)
        {
            int len = op.I.Length;
            for (int j = 0; j < len; j++)
            {
                ulong lin = CodeLinear(op.Ip + (ulong)j, bitness);
                var page = Memory.Find(lin >> Page.Shift);
                if (page is null) return null;
                sb.Append(page.Data[(int)(lin & Page.OffsetMask)].ToString("x2"));
            }
            sb.Append('.');
        }
        return sb.ToString();
    }
}
