using System.Runtime.CompilerServices;
using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;
using SyscallTools.Core.Memory;

namespace SyscallTools.Core.Cpu;

/// <summary>The decoded-block cache: each address is decoded by Iced once and re-used until its page is written.</summary>
public sealed partial class Cpu
{
    private const int MaxBlockOps = 64;
    private const int FastSize = 4096;
    private readonly Block?[] _fast = new Block?[FastSize];
    private readonly Dictionary<ulong, Block> _blocks = new();
    private readonly Dictionary<ulong, List<Block>> _blocksByPage = new();
    private readonly byte[] _fetch = new byte[16];
    /// <summary>The block the fast path is in, set only when a fault leaves it (see RunFast); <see cref="_runningSerial"/> while it runs.</summary>
    private Block? _running;
    private long _runningSerial;

    /// <summary>Native (C#) functions bound to addresses: reaching one calls it instead of decoding.</summary>
    private readonly Dictionary<ulong, NativeFunction> _natives = new();

    /// <summary>Addresses at which <see cref="Run"/> stops before executing.</summary>
    private readonly HashSet<ulong> _stops = new();

    /// <summary>Set by instructions that change how the following code must run (mode, flags, code bytes).</summary>
    internal bool BreakBlock;

    private static int FastSlot(ulong ip) => (int)((ip ^ (ip >> 12)) & (FastSize - 1));

    /// <summary>
    /// The base instruction fetches add to IP: CS.base outside 64-bit mode (0 for Linux's flat segments; an LDT code
    /// segment can have any base), nothing in 64-bit mode.
    /// </summary>
    internal ulong CodeBase => Mode == CpuMode.Long64 ? 0 : Seg[(int)SegReg.CS].Base;

    /// <summary>The linear address of code at <paramref name="ip"/> in the current mode.</summary>
    private ulong CodeLinear(ulong ip, int bitness) => bitness == 64 ? ip : (uint)(CodeBase + ip);

    /// <summary>
    /// The block at <paramref name="ip"/>: the hit in the direct-mapped cache, with the block still valid for this mode,
    /// CS base, CPL and mapping generation, inline; everything else (a miss, a decode, a re-check) out of line.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Block GetBlock(ulong ip)
    {
        var b = _fast[FastSlot(ip)];
        if (b is not null && b.Start == ip && b.Valid && b.Mode == Mode && b.CsBase == CodeBase
            && (b.Native is not null || (b.CheckedCpl == Cpl && b.CheckedGeneration == Memory.Generation + _controlEpoch)))
            return b;
        return GetBlockSlow(ip);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Block GetBlockSlow(ulong ip)
    {
        var b = _fast[FastSlot(ip)];
        ulong csBase = CodeBase;
        if (b is null || b.Start != ip || !b.Valid || b.Mode != Mode || b.CsBase != csBase)
        {
            if (!_blocks.TryGetValue(ip, out b) || b.Mode != Mode || !b.Valid || b.CsBase != csBase)
            {
                if (b is not null) DropBlock(b);
                // A fetch from a non-canonical RIP is #GP(0), not #PF (the AMD SYSRET case lands here in ring 3).
                if (Mode == CpuMode.Long64 && !IsCanonical(ip)) throw CpuFaultException.Gp(0, $"instruction fetch at non-canonical RIP 0x{ip:x}");
                b = _natives.TryGetValue(ip, out var native)
                    ? new Block { Start = ip, Mode = Mode, CsBase = csBase, Native = native, FirstPage = ip >> Page.Shift, LastPage = ip >> Page.Shift }
                    : DecodeBlock(ip);
                b.IsStop = _stops.Contains(ip);
                _blocks[ip] = b;
                for (ulong p = b.FirstPage; ; p++)
                {
                    if (!_blocksByPage.TryGetValue(p, out var list)) _blocksByPage[p] = list = new List<Block>();
                    list.Add(b);
                    var page = Memory.Find(p);
                    if (page is not null) page.HoldsCode = true;
                    if (p == b.LastPage) break;
                }
            }
            _fast[FastSlot(ip)] = b;
        }
        if (b.Native is not null) return b;
        // The fetch permission depends on CPL and the mapping; re-check only when either changed.
        long gen = Memory.Generation + _controlEpoch;
        if (b.CheckedCpl != Cpl || b.CheckedGeneration != gen)
        {
            bool user = Cpl == 3;
            for (ulong p = b.FirstPage; ; p++)
            {
                ulong addr = p == b.FirstPage ? CodeLinear(ip, Mode.CodeBitness()) : p << Page.Shift;
                Translate(addr, AccessKind.Execute, user);
                if (p == b.LastPage) break;
            }
            b.CheckedCpl = Cpl;
            b.CheckedGeneration = gen;
        }
        return b;
    }

    private long _controlEpoch;

    /// <summary>Call after changing CR0/CR4/EFER bits that affect fetch checks.</summary>
    internal void ControlChanged() { _controlEpoch++; FlushDataTlb(); BreakBlock = true; }

    private Block DecodeBlock(ulong ip)
    {
        var mode = Mode;
        int bitness = mode.CodeBitness();
        bool user = Cpl == 3;
        var ops = new List<Op>(8);
        ulong at = ip;
        ulong firstPage = CodeLinear(ip, bitness) >> Page.Shift;
        ulong lastPage = firstPage;
        while (ops.Count < MaxBlockOps)
        {
            if (ops.Count > 0 && (_natives.ContainsKey(at) || _stops.Contains(at))) break;
            // Fetch up to 15 bytes, stopping where the next byte cannot be fetched.
            int avail = 0;
            CpuFaultException? fetchFault = null;
            while (avail < 15)
            {
                ulong a = CodeLinear(at + (ulong)avail, bitness);
                Page page;
                try { page = Translate(a, AccessKind.Execute, user); }
                catch (CpuFaultException e) { fetchFault = e; break; }
                int off = (int)(a & Page.OffsetMask);
                int n = Math.Min(15 - avail, Page.Size - off);
                Array.Copy(page.Data, off, _fetch, avail, n);
                avail += n;
            }
            if (avail == 0)
            {
                if (ops.Count == 0) throw fetchFault!;
                break;
            }
            var reader = new ByteArrayCodeReader(_fetch, 0, avail);
            var decoder = Decoder.Create(bitness, reader, at, DecoderOptions.None);
            decoder.Decode(out var insn);
            if (decoder.LastError == DecoderError.NoMoreBytes)
            {
                if (fetchFault is not null)
                {
                    // The instruction runs into a page that cannot be fetched: the fault is on that page.
                    if (ops.Count == 0) throw fetchFault;
                    break;
                }
                insn = default; // 15 bytes without a complete instruction: too long.
            }
            var op = Binder.Bind(insn, bitness);
            if (insn.Code == Code.INVALID) { op.Ip = at; op.Next = at; }
            ops.Add(op);
            ulong end = CodeLinear(at + (ulong)Math.Max(insn.Length, 1) - 1, bitness);
            lastPage = Math.Max(lastPage, end >> Page.Shift);
            if (insn.Code == Code.INVALID || Binder.EndsBlock(insn) || op.Run == Binder.NotModelled) break;
            at = insn.NextIP;
            if (bitness == 32) at = (uint)at; else if (bitness == 16) at = (ushort)at;
            if ((CodeLinear(at, bitness) >> Page.Shift) != firstPage) break;
        }
        return new Block { Start = ip, Mode = mode, CsBase = CodeBase, Ops = ops.ToArray(), FirstPage = firstPage, LastPage = lastPage };
    }

    private void DropBlock(Block b)
    {
        b.Valid = false;
        _blocks.Remove(b.Start);
        if (b.Serial == _runningSerial) BreakBlock = true;
    }

    /// <summary>A page holding decoded code was written or remapped: forget every block decoded from it.</summary>
    private void InvalidateCodePage(Page page)
    {
        page.HoldsCode = false;
        if (!_blocksByPage.Remove(page.Number, out var list)) return;
        foreach (var b in list) DropBlock(b);
    }

    /// <summary>Forgets every decoded block (after changing natives or stop addresses).</summary>
    public void FlushDecodeCache()
    {
        foreach (var b in _blocks.Values) b.Valid = false;
        _blocks.Clear();
        _blocksByPage.Clear();
        Array.Clear(_fast);
        BreakBlock = true;
    }

    public int CachedBlockCount => _blocks.Count;

    /// <summary>Binds a native function to an address: when execution reaches it, the function runs instead.</summary>
    public void BindNative(ulong address, string name, Action<Cpu> body)
    {
        _natives[address] = new NativeFunction(address, name, body);
        // Decoded blocks may run through the address; with none decoded yet (a machine being booted binds hundreds of
        // functions) there is nothing to forget, and clearing the lookup table each time was a third of a boot.
        if (_blocks.Count > 0) FlushDecodeCache();
    }

    public IReadOnlyCollection<NativeFunction> Natives => _natives.Values;

    public void AddStopAddress(ulong address) { if (_stops.Add(address)) StopsChanged(address, added: true); }
    public void RemoveStopAddress(ulong address) { if (_stops.Remove(address)) StopsChanged(address, added: false); }

    /// <summary>
    /// A stop address matters to the block that starts there (its IsStop) and to a block that runs through it (which
    /// must now end before it); every other decoded block stays. (Flushing the whole cache here cost a re-decode of the
    /// kernel's entry code on every Invoke-Syscall.) A block cut short by a stop that is removed again stays correct.
    /// </summary>
    private void StopsChanged(ulong address, bool added)
    {
        if (_blocksByPage.TryGetValue(address >> Page.Shift, out var list))
        {
            foreach (var b in list)
            {
                if (!b.Valid) continue;
                if (b.Start == address) b.IsStop = added;
                else if (added && b.Native is null && RunsThrough(b, address)) DropBlock(b);
            }
        }
        BreakBlock = true;
    }

    private static bool RunsThrough(Block b, ulong address)
    {
        for (int k = 1; k < b.Ops.Length; k++) if (b.Ops[k].Ip == address) return true;
        return false;
    }

    /// <summary>Decodes (without executing or caching) the instruction at an address in the current mode, for traces.</summary>
    public string? Disassemble(ulong ip, int? bitness = null)
    {
        Span<byte> buf = stackalloc byte[15];
        int avail = 0;
        for (; avail < 15; avail++)
        {
            var p = Memory.Find((ip + (ulong)avail) >> Page.Shift);
            if (p is null) break;
            buf[avail] = p.Data[(int)((ip + (ulong)avail) & Page.OffsetMask)];
        }
        if (avail == 0) return null;
        var decoder = Decoder.Create(bitness ?? Mode.CodeBitness(), new ByteArrayCodeReader(buf[..avail].ToArray()), ip);
        decoder.Decode(out var insn);
        if (insn.Code == Code.INVALID) return "(bad)";
        return Assembly.Disassembler.Format(insn);
    }
}

/// <summary>A C# function bound to an address in emulated memory.</summary>
public sealed record NativeFunction(ulong Address, string Name, Action<Cpu> Body);
