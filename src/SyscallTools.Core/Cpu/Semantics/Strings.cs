using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>
/// MOVS STOS LODS CMPS SCAS with REP/REPE/REPNE. Each iteration commits before the next, so a fault in the
/// middle leaves RCX/RSI/RDI describing the remaining work and RIP at the instruction, as on hardware.
/// </summary>
internal sealed class Strings
{
    /// <summary>Handlers are instance methods: delegates to them are called without the static-delegate thunk.</summary>
    public static readonly Strings Instance = new();

    public Exec? Bind(Op op)
    {
        var i = op.I;
        if (!i.IsStringInstruction) return null;
        op.Size = (byte)i.MemorySize.GetSize();
        // Address size from the implicit operand kind (ESRDI = 64, ESEDI = 32, ESDI = 16).
        var kind = i.Op0Kind == OpKind.Register ? i.Op1Kind : i.Op0Kind;
        op.B.AddrBytes = (byte)(kind switch
        {
            OpKind.MemorySegRSI or OpKind.MemoryESRDI => 8,
            OpKind.MemorySegESI or OpKind.MemoryESEDI => 4,
            _ => 2,
        });
        // The source segment (DS unless overridden) for MOVS/LODS/CMPS.
        op.B.Seg = (byte)(i.MemorySegment - Register.ES);
        op.Sub = i.HasRepPrefix ? 1 : i.HasRepnePrefix ? 2 : 0;
        return op.Mnemonic switch
        {
            Mnemonic.Movsb or Mnemonic.Movsw or Mnemonic.Movsd or Mnemonic.Movsq => Movs,
            Mnemonic.Stosb or Mnemonic.Stosw or Mnemonic.Stosd or Mnemonic.Stosq => Stos,
            Mnemonic.Lodsb or Mnemonic.Lodsw or Mnemonic.Lodsd or Mnemonic.Lodsq => Lods,
            Mnemonic.Cmpsb or Mnemonic.Cmpsw or Mnemonic.Cmpsd or Mnemonic.Cmpsq => Cmps,
            Mnemonic.Scasb or Mnemonic.Scasw or Mnemonic.Scasd or Mnemonic.Scasq => Scas,
            _ => null,
        };
    }

    private static ulong AddrMask(Op op) => Cpu.SizeMask(op.B.AddrBytes);

    private static ulong Delta(Cpu c, Op op) => c.Flag(RFlags.DF) ? (ulong)-(long)op.Size : op.Size;

    private static void Advance(Cpu c, Op op, int reg, ulong delta)
    {
        ulong m = AddrMask(op);
        c.R[reg] = (c.R[reg] & ~m) | ((c.R[reg] + delta) & m);
        if (op.B.AddrBytes == 4) c.R[reg] &= 0xFFFF_FFFF;
    }

    private static ulong Src(Cpu c, Op op) => c.SegmentLinear(op.B.Seg, c.R[6] & AddrMask(op));
    private static ulong Dst(Cpu c, Op op) => c.SegmentLinear((int)SegReg.ES, c.R[7] & AddrMask(op));

    /// <summary>
    /// Iterations one execution of a REP instruction performs before it yields. Hardware may suspend a REP
    /// string instruction between iterations; the model does so every <see cref="Chunk"/> iterations by
    /// leaving RIP on the instruction, so each chunk counts against the instruction budget and a huge RCX
    /// cannot hang the host.
    /// </summary>
    internal const int Chunk = 256;

    /// <summary>Runs one instruction's worth of iterations; with a REP prefix, until RCX is 0 (or the condition fails).</summary>
    private static void Repeat(Cpu c, Op op, Func<Cpu, Op, bool> once, bool conditional)
    {
        if (op.Sub == 0) { once(c, op); return; }
        ulong m = AddrMask(op);
        // Iterate in place; a fault restarts the instruction with the registers as they are.
        for (int n = 0; (c.R[1] & m) != 0; n++)
        {
            if (n == Chunk) { c.Rip = op.Ip; c.BreakBlock = true; return; }
            bool stop = once(c, op);
            ulong cx = (c.R[1] - 1) & m;
            c.R[1] = (c.R[1] & ~m) | cx;
            if (op.B.AddrBytes == 4) c.R[1] &= 0xFFFF_FFFF;
            if (conditional && stop) break;
        }
    }

    private void Movs(Cpu c, Op op) => Repeat(c, op, static (c, op) =>
    {
        ulong v = c.Read(Src(c, op), op.Size);
        c.Write(Dst(c, op), op.Size, v);
        ulong d = Delta(c, op);
        Advance(c, op, 6, d);
        Advance(c, op, 7, d);
        return false;
    }, conditional: false);

    private void Stos(Cpu c, Op op) => Repeat(c, op, static (c, op) =>
    {
        c.Write(Dst(c, op), op.Size, c.R[0]);
        Advance(c, op, 7, Delta(c, op));
        return false;
    }, conditional: false);

    private void Lods(Cpu c, Op op) => Repeat(c, op, static (c, op) =>
    {
        c.WriteReg(0, op.Size, c.Read(Src(c, op), op.Size));
        Advance(c, op, 6, Delta(c, op));
        return false;
    }, conditional: false);

    private static bool StopFor(Cpu c, Op op) => op.Sub == 1 ? !c.GetZF() : c.GetZF();

    private void Cmps(Cpu c, Op op) => Repeat(c, op, static (c, op) =>
    {
        ulong a = c.Read(Src(c, op), op.Size), b = c.Read(Dst(c, op), op.Size);
        c.SetLazy(LazyOp.Sub, op.Size, a, b, a - b);
        ulong d = Delta(c, op);
        Advance(c, op, 6, d);
        Advance(c, op, 7, d);
        return StopFor(c, op);
    }, conditional: true);

    private void Scas(Cpu c, Op op) => Repeat(c, op, static (c, op) =>
    {
        ulong a = c.R[0] & Cpu.SizeMask(op.Size), b = c.Read(Dst(c, op), op.Size);
        c.SetLazy(LazyOp.Sub, op.Size, a, b, a - b);
        Advance(c, op, 7, Delta(c, op));
        return StopFor(c, op);
    }, conditional: true);
}
