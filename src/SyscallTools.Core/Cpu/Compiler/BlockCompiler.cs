using System.Reflection;
using System.Reflection.Emit;
using Iced.Intel;
using Label = System.Reflection.Emit.Label;
using FlowControl = Iced.Intel.FlowControl;
using SyscallTools.Core.Cpu.Decoding;
using SyscallTools.Core.Cpu.Semantics;
using SyscallTools.Core.Memory;

namespace SyscallTools.Core.Cpu.Compiler;

/// <summary>
/// Runs a compiled block: the same effect on the <see cref="Cpu"/> as interpreting the block's instructions in
/// <c>RunFast</c>, for a block that may loop on itself up to <paramref name="room"/> instructions.
/// </summary>
internal delegate void CompiledCode(Cpu c, ulong room);

/// <summary>
/// Translates a decoded block into IL (a <see cref="DynamicMethod"/>) that the .NET JIT turns into machine code.
/// Register-only integer instructions (the ALU forms the interpreter's <see cref="FastAlu"/> handles, INC/DEC, MOV,
/// LEA, NOP) and the closing JMP/Jcc become IL over locals: the guest registers they touch live in locals and are
/// written back only where something else could look at them. Every other instruction is a call to the
/// interpreter's own handler, with the registers and the lazy-flags record written back first, RIP, the retired
/// count and the fault index set as the interpreter sets them, and the same "leave the block" test after it.
/// A block whose last instruction branches back to its own start and that holds nothing but translated
/// instructions loops inside the method (QEMU's chained translation blocks, in one method), counting
/// iterations against the budget.
/// </summary>
internal sealed class BlockCompiler
{
    /// <summary>Iterations of a self-looping block per call, so the run loop still polls for cancellation and stops.</summary>
    internal const ulong MaxIterations = 4096;

    private static readonly FieldInfo FR = Field(nameof(Cpu.R));
    private static readonly FieldInfo FRip = Field(nameof(Cpu.Rip));
    private static readonly FieldInfo FRetired = Field(nameof(Cpu.InstructionsRetired));
    private static readonly FieldInfo FBreak = Field(nameof(Cpu.BreakBlock));
    private static readonly FieldInfo FIndex = Field("_currentIndex");
    private static readonly FieldInfo FLzOp = Field(nameof(Cpu.LzOp));
    private static readonly FieldInfo FLzBytes = Field(nameof(Cpu.LzBytes));
    private static readonly FieldInfo FLzA = Field(nameof(Cpu.LzA));
    private static readonly FieldInfo FLzB = Field(nameof(Cpu.LzB));
    private static readonly FieldInfo FLzRes = Field(nameof(Cpu.LzRes));
    private static readonly FieldInfo FLzCarry = Field(nameof(Cpu.LzCarry));
    private static readonly FieldInfo FOpRun = typeof(Op).GetField(nameof(Op.Run))!;
    private static readonly MethodInfo MGetCF = Method(typeof(Cpu), nameof(Cpu.GetCF));
    private static readonly MethodInfo MCondition = Method(typeof(Cpu), nameof(Cpu.Condition));
    private static readonly MethodInfo MLazyCF = Method(typeof(LazyFlags), nameof(LazyFlags.CF));
    private static readonly MethodInfo MLazyCondition = typeof(LazyFlags).GetMethod(nameof(LazyFlags.Condition),
        BindingFlags.Public | BindingFlags.Static, [typeof(int), typeof(LazyOp), typeof(int), typeof(ulong), typeof(ulong), typeof(ulong), typeof(bool)])!;
    private static readonly MethodInfo MBranch = Method(typeof(ControlFlow), nameof(ControlFlow.Branch));
    private static readonly MethodInfo MExecInvoke = typeof(Exec).GetMethod("Invoke")!;
    private static readonly MethodInfo MLoopAllowed = Method(typeof(BlockCompiler), nameof(LoopAllowed));
    private static readonly MethodInfo MBranchAllowed = Method(typeof(BlockCompiler), nameof(BranchAllowed));
    private static readonly MethodInfo MLoad = Method(typeof(BlockCompiler), nameof(ReadMemory));
    private static readonly FieldInfo FArith = Field(nameof(Cpu.ArithValue));
    private static readonly MethodInfo MFlagsCondition = typeof(LazyFlags).GetMethod(nameof(LazyFlags.Condition),
        BindingFlags.Public | BindingFlags.Static, [typeof(int), typeof(ulong)])!;
    private static readonly MethodInfo MImul = Method(typeof(Arithmetic), nameof(Arithmetic.ImulResult));
    private static readonly MethodInfo MPush = Method(typeof(Cpu), nameof(Cpu.Push));
    private static readonly MethodInfo MTryPush = Method(typeof(Cpu), nameof(Cpu.TryPushFast));
    private static readonly MethodInfo MTryPop = Method(typeof(Cpu), nameof(Cpu.TryPopFast));
    private static readonly MethodInfo MTryLoad = Method(typeof(Cpu), nameof(Cpu.TryReadSegmentFast));
    private static readonly MethodInfo MTrySwapgs = Method(typeof(Cpu), nameof(Cpu.TrySwapgs));
    private static readonly MethodInfo MStackWindow = Method(typeof(Cpu), nameof(Cpu.TryStackWindow));
    private static readonly MethodInfo MPop = Method(typeof(Cpu), nameof(Cpu.Pop));
    private static readonly MethodInfo MShl = Method(typeof(Shifts), nameof(Shifts.ShlResult));
    private static readonly MethodInfo MShr = Method(typeof(Shifts), nameof(Shifts.ShrResult));
    private static readonly MethodInfo MSar = Method(typeof(Shifts), nameof(Shifts.SarResult));

    private static FieldInfo Field(string name) =>
        typeof(Cpu).GetField(name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
        ?? throw new MissingFieldException(nameof(Cpu), name);

    private static MethodInfo Method(Type t, string name) =>
        t.GetMethod(name, BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
        ?? throw new MissingMethodException(t.Name, name);

    private readonly Op[] _ops;
    private readonly ulong _start;
    /// <summary>The code size the block was decoded for (32 or 64): a 64-bit block runs only in 64-bit mode.</summary>
    private readonly int _bitness;
    /// <summary>The stack window (<see cref="Cpu.TryStackWindow"/>): the page's bytes (null while closed) and its base.</summary>
    private LocalBuilder _winData = null!, _winBase = null!, _winOff = null!;
    private readonly bool _loops;
    private ILGenerator _il = null!;
    private readonly LocalBuilder?[] _reg = new LocalBuilder?[16];
    private readonly bool[] _loaded = new bool[16];
    private readonly bool[] _dirty = new bool[16];
    private LocalBuilder _lzA = null!, _lzB = null!, _lzRes = null!, _lzCarry = null!, _iters = null!, _loopRetired = null!, _base = null!;
    /// <summary>
    /// Where the status flags are: in the Cpu's fields; in the record locals with this operation and width; or, after a
    /// shift, materialised in <see cref="_arith"/> (<see cref="_materialised"/>).
    /// </summary>
    private LazyOp _localOp = LazyOp.None;
    private int _localBytes;
    private bool _materialised;
    private LocalBuilder _arith = null!;

    private bool FlagsInFields => _localOp == LazyOp.None && !_materialised;
    /// <summary>Instructions of this pass through the block run so far (the retired count is the entry count plus these).</summary>
    private int _unsynced;

    private BlockCompiler(Op[] ops, ulong start, int bitness)
    {
        _ops = ops;
        _start = start;
        _bitness = bitness;
        _loops = LoopsOnItself(ops, start);
    }

    /// <summary>Whether a block is worth translating: at least one instruction becomes IL.</summary>
    public static bool Worthwhile(Op[] ops) => ops.Any(o => Translates(o) || IsClosingBranch(o) || IsClosingCallOrRet(o));

    /// <summary>Compiles a block's instructions; the delegate is bound to <paramref name="ops"/> for the calls into the interpreter.</summary>
    public static CompiledCode Compile(Op[] ops, ulong start, int bitness, string name)
    {
        var dm = new DynamicMethod(name, typeof(void), [typeof(Op[]), typeof(Cpu), typeof(ulong)], typeof(Cpu).Module, skipVisibility: true);
        new BlockCompiler(ops, start, bitness).Emit(dm.GetILGenerator());
        return (CompiledCode)dm.CreateDelegate(typeof(CompiledCode), ops);
    }

    /// <summary>
    /// A self loop: the last instruction a JMP/Jcc back to the start. Instructions left to the interpreter may be in
    /// it: after each the same "leave the block" test runs as in the interpreter (a far transfer, a write to code, a
    /// flag change that needs a look, a stop), and nothing that stays in a block can change CPL, mode or mappings.
    /// </summary>
    private static bool LoopsOnItself(Op[] ops, ulong start)
    {
        var last = ops[^1];
        return IsClosingBranch(last) && last.A.Value == start;
    }

    private bool HasCalls => _ops.Take(_ops.Length - 1).Any(o => !Translates(o));

    /// <summary>Translated instructions that can fault: memory reads and the stack instructions.</summary>
    private static bool CanFault(Op op) =>
        Translates(op) && ((op.B.Kind == OperandKind.Mem && op.Mnemonic != Mnemonic.Lea) || op.Mnemonic is Mnemonic.Push or Mnemonic.Pop);

    private static bool IsReg(in Operand o) => o.Kind == OperandKind.Reg && o.Size >= 4;

    /// <summary>
    /// The instructions that become IL (the rest call the interpreter's handler): register and immediate forms, and
    /// the forms that read one memory operand into a register (loads can fault, so the Cpu is brought up to date
    /// before each, as before a call; stores stay with the interpreter, which notices writes to code).
    /// </summary>
    internal static bool Translates(Op op) => op.Mnemonic switch
    {
        Mnemonic.Add or Mnemonic.Sub or Mnemonic.Cmp or Mnemonic.And or Mnemonic.Or or Mnemonic.Xor =>
            IsReg(op.A) && (IsReg(op.B) || op.B.Kind == OperandKind.Imm || IsLoad(op.B, op.A.Size)) && op.I.OpCount == 2,
        Mnemonic.Test => IsReg(op.A) && (IsReg(op.B) || op.B.Kind == OperandKind.Imm) && op.I.OpCount == 2,
        Mnemonic.Inc or Mnemonic.Dec => IsReg(op.A) && op.I.OpCount == 1,
        Mnemonic.Mov => IsReg(op.A) && (op.B.Kind == OperandKind.Imm || (IsReg(op.B) && op.B.Size == op.A.Size) || IsLoad(op.B, op.A.Size)) && op.I.OpCount == 2,
        Mnemonic.Movzx => IsReg(op.A) && op.B.Size is 1 or 2 && (op.B.Kind is OperandKind.Reg or OperandKind.RegHigh8 || IsLoad(op.B, op.B.Size)),
        Mnemonic.Lea => IsReg(op.A) && op.B.Kind == OperandKind.Mem,
        Mnemonic.Shl or Mnemonic.Sal or Mnemonic.Shr or Mnemonic.Sar => IsReg(op.A) && (op.B.Kind == OperandKind.Imm || op.I.OpCount == 1),
        Mnemonic.Imul => IsReg(op.A) && op.I.OpCount is 2 or 3 && ((IsReg(op.B) && op.B.Size == op.A.Size) || IsLoad(op.B, op.A.Size))
            && (op.I.OpCount == 2 || op.C.Kind == OperandKind.Imm),
        // PUSH imm too: the entry stubs push the selectors and -ENOSYS that way.
        Mnemonic.Push => op.Size is 4 or 8 && ((op.A.Kind == OperandKind.Reg && op.A.Size == op.Size) || op.A.Kind == OperandKind.Imm),
        Mnemonic.Pop => op.A.Kind == OperandKind.Reg && op.A.Size == op.Size && op.Size is 4 or 8,
        Mnemonic.Nop => true,
        Mnemonic.Swapgs => true,
        _ => false,
    };

    private static bool IsLoad(in Operand o, int size) => o.Kind == OperandKind.Mem && o.Size == size && o.AddrBytes is 4 or 8;


    /// <summary>
    /// CALL rel or RET (no immediate) with a 32- or 64-bit stack slot: the block's last instruction, translated as the
    /// interpreter's ControlFlow.Call/Ret — the stack access through the hit path, the target checked as Branch checks it.
    /// </summary>
    internal static bool IsClosingCallOrRet(Op op) =>
        op.Size is 4 or 8 &&
        ((op.Mnemonic == Mnemonic.Call && op.A.Kind == OperandKind.Imm && op.I.OpCount == 1 && op.I.FlowControl == FlowControl.Call) ||
         (op.Mnemonic == Mnemonic.Ret && op.I.OpCount == 0 && op.I.FlowControl == FlowControl.Return));

    /// <summary>JMP rel or Jcc rel: the block's last instruction, translated with the interpreter's branch check.</summary>
    internal static bool IsClosingBranch(Op op) =>
        op.A.Kind == OperandKind.Imm && op.I.OpCount == 1 &&
        ((op.Mnemonic == Mnemonic.Jmp && op.I.FlowControl == FlowControl.UnconditionalBranch) ||
         (op.I.FlowControl == FlowControl.ConditionalBranch && op.I.ConditionCode != ConditionCode.None
          && op.Mnemonic is not (Mnemonic.Loop or Mnemonic.Loope or Mnemonic.Loopne or Mnemonic.Jcxz or Mnemonic.Jecxz or Mnemonic.Jrcxz)));

    private void Emit(ILGenerator il)
    {
        _il = il;
        _lzA = il.DeclareLocal(typeof(ulong));
        _lzB = il.DeclareLocal(typeof(ulong));
        _lzRes = il.DeclareLocal(typeof(ulong));
        _lzCarry = il.DeclareLocal(typeof(bool));
        _arith = il.DeclareLocal(typeof(ulong));
        _base = il.DeclareLocal(typeof(ulong));
        _winData = il.DeclareLocal(typeof(byte[]));
        _winBase = il.DeclareLocal(typeof(ulong));
        _winOff = il.DeclareLocal(typeof(ulong));
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldfld, FRetired);
        il.Emit(OpCodes.Stloc, _base);
        Label head = il.DefineLabel();
        if (_loops)
        {
            _iters = il.DeclareLocal(typeof(ulong));
            _loopRetired = il.DeclareLocal(typeof(ulong));
            // iters = LoopAllowed(c) ? min(room / n, MaxIterations) : 1
            Label one = il.DefineLabel(), set = il.DefineLabel();
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldc_I8, (long)_start);
            il.Emit(OpCodes.Call, MLoopAllowed);
            il.Emit(OpCodes.Brfalse, one);
            il.Emit(OpCodes.Ldarg_2);
            il.Emit(OpCodes.Ldc_I8, (long)_ops.Length);
            il.Emit(OpCodes.Div_Un);
            il.Emit(OpCodes.Ldc_I8, (long)MaxIterations);
            il.Emit(OpCodes.Call, typeof(Math).GetMethod(nameof(Math.Min), [typeof(ulong), typeof(ulong)])!);
            il.Emit(OpCodes.Br, set);
            il.MarkLabel(one);
            il.Emit(OpCodes.Ldc_I8, 1L);
            il.MarkLabel(set);
            il.Emit(OpCodes.Stloc, _iters);
            // The registers the loop touches live in locals for all its iterations. In a loop of register instructions
            // the flag record needs no write-back at the branch back: the only instructions that read flags from before
            // them are INC/DEC (CF) and the closing Jcc. A Jcc with no writer before it in the block reads the Cpu's fields, which nothing in the loop
            // changes; an INC/DEC that is the block's first writer reads CF from the fields, which is stale from the
            // second iteration on, but its CF is either overwritten by a later ADD/SUB/logic writer in the block (dead)
            // or, when every writer is INC/DEC, equal to the fields' CF, since INC and DEC pass CF through.
            foreach (var r in RegistersTouched()) Load(r);
            foreach (var r in RegistersWritten()) _dirty[r] = true;
            il.MarkLabel(head);
        }
        for (int k = 0; k < _ops.Length; k++)
        {
            var op = _ops[k];
            if (k == _ops.Length - 1 && IsClosingBranch(op)) { EmitClosingBranch(op, k, head); return; }
            if (k == _ops.Length - 1 && IsClosingCallOrRet(op)) { EmitCallOrRet(op, k); return; }
            if (Translates(op)) EmitTranslated(op, k);
            else EmitCall(op, k);
            _unsynced++;
        }
        // Fell off the end of a block that ends without a branch (the page or length limit, or a STOP address).
        EmitExit(_ops[^1].Next, 0);
        _il.Emit(OpCodes.Ret);
    }

    private IEnumerable<int> RegistersTouched()
    {
        var set = new SortedSet<int>();
        foreach (var op in _ops)
        {
            if (!Translates(op)) continue;
            // PUSH and POP move RSP in its local.
            if (op.Mnemonic is Mnemonic.Push or Mnemonic.Pop) set.Add(4);
            // Every register a translated instruction reads or writes, address registers included: in a loop all of
            // them are loaded before the first iteration, so no load of a stale Cpu register sits inside the loop.
            foreach (var o in new[] { op.A, op.B })
            {
                if (o.Kind is OperandKind.Reg or OperandKind.RegHigh8) set.Add(o.Reg);
                if (o.Kind == OperandKind.Mem)
                {
                    if (o.Base != Operand.NoReg) set.Add(o.Base);
                    if (o.Index != Operand.NoReg) set.Add(o.Index);
                }
            }
        }
        return set;
    }

    private IEnumerable<int> RegistersWritten() =>
        _ops.Where(o => Translates(o) && o.Mnemonic is not (Mnemonic.Cmp or Mnemonic.Test or Mnemonic.Nop or Mnemonic.Push or Mnemonic.Swapgs)).Select(o => (int)o.A.Reg)
            .Concat(_ops.Any(o => Translates(o) && o.Mnemonic is Mnemonic.Push or Mnemonic.Pop) ? [4] : [])
            .Distinct();

    // ---- registers in locals ----

    private LocalBuilder RegLocal(int r) => _reg[r] ??= _il.DeclareLocal(typeof(ulong));

    private void Load(int r)
    {
        _il.Emit(OpCodes.Ldarg_1);
        _il.Emit(OpCodes.Ldfld, FR);
        _il.Emit(OpCodes.Ldc_I4, r);
        _il.Emit(OpCodes.Ldelem_I8);
        _il.Emit(OpCodes.Stloc, RegLocal(r));
        _loaded[r] = true;
    }

    /// <summary>Pushes a guest register's 64-bit value.</summary>
    private void PushReg(int r)
    {
        if (!_loaded[r]) Load(r);
        _il.Emit(OpCodes.Ldloc, _reg[r]!);
    }

    /// <summary>Pops a value into a guest register as a write of <paramref name="bytes"/> does (a 32-bit write zero-extends).</summary>
    private void PopReg(int r, int bytes)
    {
        if (bytes == 4) { _il.Emit(OpCodes.Conv_U4); _il.Emit(OpCodes.Conv_U8); }
        _il.Emit(OpCodes.Stloc, RegLocal(r));
        _loaded[r] = true;
        _dirty[r] = true;
    }

    /// <summary>
    /// Writes the registers changed in locals back to the Cpu. <paramref name="commit"/>: on the path that goes on
    /// (before a call into the interpreter), so they are clean afterwards; an exit path leaves the state as it was
    /// for the code emitted after it.
    /// </summary>
    private void FlushRegs(bool commit)
    {
        for (int r = 0; r < 16; r++)
        {
            if (!_dirty[r]) continue;
            _il.Emit(OpCodes.Ldarg_1);
            _il.Emit(OpCodes.Ldfld, FR);
            _il.Emit(OpCodes.Ldc_I4, r);
            _il.Emit(OpCodes.Ldloc, _reg[r]!);
            _il.Emit(OpCodes.Stelem_I8);
            if (commit && !_loops) _dirty[r] = false;
        }
    }

    // ---- the lazy-flags record in locals ----

    private void SetFlagRecord(LazyOp kind, int bytes, LocalBuilder a, Action pushB, LocalBuilder res)
    {
        _il.Emit(OpCodes.Ldloc, a);
        _il.Emit(OpCodes.Stloc, _lzA);
        pushB();
        _il.Emit(OpCodes.Stloc, _lzB);
        _il.Emit(OpCodes.Ldloc, res);
        _il.Emit(OpCodes.Stloc, _lzRes);
        _localOp = kind;
        _localBytes = bytes;
        _materialised = false;
    }

    /// <summary>Writes a record held in locals to the Cpu's fields, as the interpreter's handlers leave it.</summary>
    private void FlushFlags(bool keepLocal = false)
    {
        if (FlagsInFields) return;
        void Store(FieldInfo f, Action push) { _il.Emit(OpCodes.Ldarg_1); push(); _il.Emit(OpCodes.Stfld, f); }
        if (_materialised)
        {
            // Cpu.SetArith: no record, the six flags as bits.
            Store(FLzOp, () => _il.Emit(OpCodes.Ldc_I4_0));
            Store(FArith, () => _il.Emit(OpCodes.Ldloc, _arith));
            if (!keepLocal) _materialised = false;
            return;
        }
        Store(FLzOp, () => _il.Emit(OpCodes.Ldc_I4, (int)_localOp));
        Store(FLzBytes, () => _il.Emit(OpCodes.Ldc_I4, _localBytes));
        Store(FLzA, () => _il.Emit(OpCodes.Ldloc, _lzA));
        Store(FLzB, () => _il.Emit(OpCodes.Ldloc, _lzB));
        Store(FLzRes, () => _il.Emit(OpCodes.Ldloc, _lzRes));
        if (_localOp is LazyOp.Inc or LazyOp.Dec) Store(FLzCarry, () => _il.Emit(OpCodes.Ldloc, _lzCarry));
        if (!keepLocal) _localOp = LazyOp.None;
    }

    private void PushCF()
    {
        if (_materialised)
        {
            _il.Emit(OpCodes.Ldloc, _arith);
            _il.Emit(OpCodes.Ldc_I8, (long)RFlags.CF);
            _il.Emit(OpCodes.And);
            _il.Emit(OpCodes.Ldc_I8, 0L);
            _il.Emit(OpCodes.Cgt_Un);
            return;
        }
        switch (_localOp)
        {
            case LazyOp.None:
                _il.Emit(OpCodes.Ldarg_1);
                _il.Emit(OpCodes.Call, MGetCF);
                break;
            case LazyOp.Logic:
                _il.Emit(OpCodes.Ldc_I4_0);
                break;
            default:
                PushRecord();
                _il.Emit(OpCodes.Ldloc, _lzCarry);
                _il.Emit(OpCodes.Call, MLazyCF);
                break;
        }
    }

    private void PushRecord()
    {
        _il.Emit(OpCodes.Ldc_I4, (int)_localOp);
        _il.Emit(OpCodes.Ldc_I4, _localBytes);
        _il.Emit(OpCodes.Ldloc, _lzA);
        _il.Emit(OpCodes.Ldloc, _lzB);
        _il.Emit(OpCodes.Ldloc, _lzRes);
    }

    /// <summary>Pushes whether condition <paramref name="cc"/> (hardware order) holds.</summary>
    private void PushCondition(int cc)
    {
        if (_materialised)
        {
            _il.Emit(OpCodes.Ldc_I4, cc);
            _il.Emit(OpCodes.Ldloc, _arith);
            _il.Emit(OpCodes.Call, MFlagsCondition);
            return;
        }
        if (_localOp == LazyOp.None)
        {
            _il.Emit(OpCodes.Ldarg_1);
            _il.Emit(OpCodes.Ldc_I4, cc);
            _il.Emit(OpCodes.Call, MCondition);
            return;
        }
        if (cc is 4 or 5)
        {
            // E/NE, the loop closers: ZF is the result being zero at the operation's width.
            _il.Emit(OpCodes.Ldloc, _lzRes);
            if (_localBytes == 4) _il.Emit(OpCodes.Conv_U4);
            else if (_localBytes != 8) { _il.Emit(OpCodes.Ldc_I8, (long)Cpu.SizeMask(_localBytes)); _il.Emit(OpCodes.And); }
            if (_localBytes == 4) _il.Emit(OpCodes.Ldc_I4_0); else _il.Emit(OpCodes.Ldc_I8, 0L);
            _il.Emit(OpCodes.Ceq);
            if (cc == 5) { _il.Emit(OpCodes.Ldc_I4_0); _il.Emit(OpCodes.Ceq); }
            return;
        }
        _il.Emit(OpCodes.Ldc_I4, cc);
        PushRecord();
        _il.Emit(OpCodes.Ldloc, _lzCarry);
        _il.Emit(OpCodes.Call, MLazyCondition);
    }

    // ---- instructions ----

    /// <summary>Pushes an operand's effective address (no segment): displacement + base + index &lt;&lt; scale, at the address size.</summary>
    private void PushEffectiveAddress(in Operand m)
    {
        var il = _il;
        il.Emit(OpCodes.Ldc_I8, (long)m.Value);
        if (m.Base != Operand.NoReg) { PushReg(m.Base); il.Emit(OpCodes.Add); }
        if (m.Index != Operand.NoReg)
        {
            PushReg(m.Index);
            if (m.Scale != 0) { il.Emit(OpCodes.Ldc_I4, (int)m.Scale); il.Emit(OpCodes.Shl); }
            il.Emit(OpCodes.Add);
        }
        if (m.AddrBytes == 4) { il.Emit(OpCodes.Conv_U4); il.Emit(OpCodes.Conv_U8); }
        else if (m.AddrBytes == 2) { il.Emit(OpCodes.Conv_U2); il.Emit(OpCodes.Conv_U8); }
    }

    /// <summary>
    /// Pushes the value of a register, immediate or memory source at <paramref name="size"/> bytes. A memory read
    /// can fault: the Cpu is brought up to date first (registers, flags, retired count, the instruction's index),
    /// so the fault finds the state the interpreter would leave.
    /// </summary>
    private void PushSource(in Operand o, int size, int k)
    {
        var il = _il;
        switch (o.Kind)
        {
            case OperandKind.Imm:
                il.Emit(OpCodes.Ldc_I8, (long)o.Value);
                return;
            case OperandKind.RegHigh8:
                PushReg(o.Reg);
                il.Emit(OpCodes.Ldc_I4_8);
                il.Emit(OpCodes.Shr_Un);
                il.Emit(OpCodes.Conv_U1);
                il.Emit(OpCodes.Conv_U8);
                return;
            case OperandKind.Reg:
                PushReg(o.Reg);
                switch (size)
                {
                    case 1: il.Emit(OpCodes.Conv_U1); il.Emit(OpCodes.Conv_U8); break;
                    case 2: il.Emit(OpCodes.Conv_U2); il.Emit(OpCodes.Conv_U8); break;
                    case 4: il.Emit(OpCodes.Conv_U4); il.Emit(OpCodes.Conv_U8); break;
                }
                return;
            default:
            {
                // Cpu.ReadOp: Read(Linear(o), size). The hit path (a cached translation, one page) cannot fault and
                // needs nothing written back; a miss brings the Cpu up to date, as before a call, and reads the slow way,
                // which fills the cache or raises the fault. The write-back does not count as done: the hit path skipped it.
                var ea = Temp(0);
                var value = Temp(1);
                Label done = il.DefineLabel();
                PushEffectiveAddress(o);
                il.Emit(OpCodes.Stloc, ea);
                if (InStackWindow(o))
                {
                    // [RSP + disp] (the exit paths read pt_regs so): through the stack window when it covers the bytes.
                    Label helper = il.DefineLabel();
                    EmitWindowAccess(ea, size, helper, () =>
                    {
                        il.Emit(OpCodes.Unaligned, (byte)1);
                        il.Emit(size switch { 1 => OpCodes.Ldind_U1, 2 => OpCodes.Ldind_U2, 4 => OpCodes.Ldind_U4, _ => OpCodes.Ldind_I8 });
                        if (size != 8) il.Emit(OpCodes.Conv_U8);
                        il.Emit(OpCodes.Stloc, value);
                    });
                    il.Emit(OpCodes.Br, done);
                    il.MarkLabel(helper);
                }
                il.Emit(OpCodes.Ldarg_1);
                il.Emit(OpCodes.Ldc_I4, (int)o.Seg);
                il.Emit(OpCodes.Ldloc, ea);
                il.Emit(OpCodes.Ldc_I4, size);
                il.Emit(OpCodes.Ldloca, value);
                il.Emit(OpCodes.Call, MTryLoad);
                il.Emit(OpCodes.Brtrue, done);
                SyncForSlowPath(k);
                il.Emit(OpCodes.Ldarg_1);
                il.Emit(OpCodes.Ldc_I4, (int)o.Seg);
                il.Emit(OpCodes.Ldloc, ea);
                il.Emit(OpCodes.Ldc_I4, size);
                il.Emit(OpCodes.Call, MLoad);
                il.Emit(OpCodes.Stloc, value);
                il.MarkLabel(done);
                il.Emit(OpCodes.Ldloc, value);
                return;
            }
        }
    }

    /// <summary>
    /// Whether a memory operand is a stack-relative address the stack window can serve: RSP/ESP plus a displacement at
    /// the code's address size, in a segment with no base (any but FS/GS in 64-bit code; SS, flat by the window's
    /// test, in 32-bit code).
    /// </summary>
    private bool InStackWindow(in Operand o) =>
        o.Base == 4 && o.Index == Operand.NoReg && o.AddrBytes == _bitness / 8 && o.Size is 1 or 2 or 4 or 8
        && (_bitness == 64 ? o.Seg < (int)SegReg.FS : o.Seg == (int)SegReg.SS);

    private readonly LocalBuilder?[] _temps = new LocalBuilder?[3];

    /// <summary>A scratch local for the value of one instruction's operand (never live across instructions).</summary>
    private LocalBuilder Temp(int i) => _temps[i] ??= _il.DeclareLocal(typeof(ulong));

    /// <summary>
    /// Before the slow path of a load or stack operation (which may fault): registers and flags written back, the
    /// retired count and the fault index set — without marking anything clean, since the hit path beside it wrote nothing.
    /// </summary>
    private void SyncForSlowPath(int k)
    {
        FlushRegs(commit: false);
        FlushFlags(keepLocal: true);
        SyncRetired(0);
        SetIndex(k);
    }

    /// <summary>
    /// PUSH (register or immediate) and POP of a register. The hit path goes through the stack window and moves RSP in
    /// its local; the slow path is the Cpu's own Push/Pop (which may fault) with the Cpu brought up to date first, RSP's
    /// local re-read after it, and — a push can land on a page holding code, whose write check ends the block — the same
    /// test the interpreter makes.
    /// </summary>
    private void EmitStackOp(Op op, int k)
    {
        var il = _il;
        int size = op.Size;
        var rsp = RspLocal();
        var at = Temp(0);
        Label done = il.DefineLabel(), slow = il.DefineLabel();
        if (op.Mnemonic == Mnemonic.Push)
        {
            // PUSH RSP pushes the value before the decrement: it is taken first.
            var value = Temp(2);
            PushSource(op.A, size, k);
            il.Emit(OpCodes.Stloc, value);
            // The stack address: RSP - size, 32 bits wide in 32-bit code (a flat SS, which the window requires).
            il.Emit(OpCodes.Ldloc, rsp);
            il.Emit(OpCodes.Ldc_I8, (long)size);
            il.Emit(OpCodes.Sub);
            TruncateStackAddress();
            il.Emit(OpCodes.Stloc, at);
            // The hit path: a store into the window and RSP moved in its local; nothing else is touched.
            EmitWindowAccess(at, size, slow, () =>
            {
                il.Emit(OpCodes.Ldloc, value);
                if (size == 4) il.Emit(OpCodes.Conv_U4);
                il.Emit(OpCodes.Unaligned, (byte)1);
                il.Emit(size == 8 ? OpCodes.Stind_I8 : OpCodes.Stind_I4);
            });
            il.Emit(OpCodes.Ldloc, at);
            il.Emit(OpCodes.Stloc, rsp);
            il.Emit(OpCodes.Br, done);
            // The slow path: the Cpu's own Push, which may fault, or land on a page holding code (then the interpreter's
            // write check ends the block, and so does this).
            il.MarkLabel(slow);
            SyncForSlowPath(k);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldc_I4, size);
            il.Emit(OpCodes.Ldloc, value);
            il.Emit(OpCodes.Call, MPush);
            ReloadRsp(rsp);
            Label go = il.DefineLabel();
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldfld, FBreak);
            il.Emit(OpCodes.Brfalse, go);
            SetRip(op.Next);
            SyncRetired(1);
            il.Emit(OpCodes.Ret);
            il.MarkLabel(go);
            il.MarkLabel(done);
            _dirty[4] = true;
            return;
        }
        var popped = Temp(1);
        il.Emit(OpCodes.Ldloc, rsp);
        TruncateStackAddress();
        il.Emit(OpCodes.Stloc, at);
        EmitWindowAccess(at, size, slow, () =>
        {
            il.Emit(OpCodes.Unaligned, (byte)1);
            if (size == 8) il.Emit(OpCodes.Ldind_I8);
            else { il.Emit(OpCodes.Ldind_U4); il.Emit(OpCodes.Conv_U8); }
            il.Emit(OpCodes.Stloc, popped);
        });
        il.Emit(OpCodes.Ldloc, at);
        il.Emit(OpCodes.Ldc_I8, (long)size);
        il.Emit(OpCodes.Add);
        TruncateStackAddress();
        il.Emit(OpCodes.Stloc, rsp);
        il.Emit(OpCodes.Br, done);
        il.MarkLabel(slow);
        SyncForSlowPath(k);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldc_I4, size);
        il.Emit(OpCodes.Call, MPop);
        il.Emit(OpCodes.Stloc, popped);
        ReloadRsp(rsp);
        il.MarkLabel(done);
        _dirty[4] = true;
        // POP RSP: the popped value replaces the incremented RSP.
        il.Emit(OpCodes.Ldloc, popped);
        PopReg(op.A.Reg, size);
    }

    /// <summary>In 32-bit code a stack address (and ESP after a push or pop) wraps at 32 bits.</summary>
    private void TruncateStackAddress()
    {
        if (_bitness == 32) { _il.Emit(OpCodes.Conv_U4); _il.Emit(OpCodes.Conv_U8); }
    }

    /// <summary>
    /// The window test for a stack access of <paramref name="size"/> bytes at <paramref name="at"/>: inside the open
    /// window, <paramref name="access"/> runs with the address of the bytes on the IL stack; outside it, one attempt to
    /// open the window there (which succeeds only if the access then fits, so the retry cannot loop); else to
    /// <paramref name="slow"/>.
    /// </summary>
    private void EmitWindowAccess(LocalBuilder at, int size, Label slow, Action access)
    {
        var il = _il;
        Label retry = il.DefineLabel(), open = il.DefineLabel(), hit = il.DefineLabel();
        il.MarkLabel(retry);
        il.Emit(OpCodes.Ldloc, _winData);
        il.Emit(OpCodes.Brfalse, open);
        il.Emit(OpCodes.Ldloc, at);
        il.Emit(OpCodes.Ldloc, _winBase);
        il.Emit(OpCodes.Sub);
        il.Emit(OpCodes.Dup);
        il.Emit(OpCodes.Stloc, _winOff);
        il.Emit(OpCodes.Ldc_I8, (long)(Page.Size - size));
        il.Emit(OpCodes.Ble_Un, hit);
        il.MarkLabel(open);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldloc, at);
        il.Emit(OpCodes.Ldc_I4, size);
        il.Emit(OpCodes.Ldloca, _winData);
        il.Emit(OpCodes.Ldloca, _winBase);
        il.Emit(OpCodes.Call, MStackWindow);
        il.Emit(OpCodes.Brtrue, retry);
        il.Emit(OpCodes.Br, slow);
        il.MarkLabel(hit);
        // &window[offset]: the bounds check of ldelema is the array's; the test above keeps the whole access inside.
        il.Emit(OpCodes.Ldloc, _winData);
        il.Emit(OpCodes.Ldloc, _winOff);
        il.Emit(OpCodes.Conv_I4);
        il.Emit(OpCodes.Ldelema, typeof(byte));
        access();
    }

    private void CloseStackWindow()
    {
        _il.Emit(OpCodes.Ldnull);
        _il.Emit(OpCodes.Stloc, _winData);
    }

    /// <summary>
    /// An instruction whose allowed case is a static helper (true: done) and whose other case only faults (#UD, #GP):
    /// the hit path calls the helper; the other brings the Cpu up to date and runs the interpreter's handler, which
    /// raises the fault. Were it ever to return, the block would end after it with the Cpu as the handler left it.
    /// </summary>
    private void EmitGuarded(Op op, int k, MethodInfo tryFast)
    {
        var il = _il;
        Label done = il.DefineLabel();
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Call, tryFast);
        il.Emit(OpCodes.Brtrue, done);
        SyncForSlowPath(k);
        SetRip(op.Next);
        EmitHandler(k);
        SyncRetired(1);
        il.Emit(OpCodes.Ret);
        il.MarkLabel(done);
    }

    /// <summary>RSP's local, loaded from the Cpu if this pass has not loaded it yet.</summary>
    private LocalBuilder RspLocal()
    {
        if (!_loaded[4]) Load(4);
        return _reg[4]!;
    }

    /// <summary>RSP's local re-read from the Cpu after its own Push/Pop moved it.</summary>
    private void ReloadRsp(LocalBuilder rsp)
    {
        _il.Emit(OpCodes.Ldarg_1);
        _il.Emit(OpCodes.Ldfld, FR);
        _il.Emit(OpCodes.Ldc_I4_4);
        _il.Emit(OpCodes.Ldelem_I8);
        _il.Emit(OpCodes.Stloc, rsp);
    }

    /// <summary>Sign-extends the 64-bit value on the stack from <paramref name="bytes"/> (4 or 8).</summary>
    private void PushSignExtended(int bytes)
    {
        if (bytes == 4) { _il.Emit(OpCodes.Conv_I4); _il.Emit(OpCodes.Conv_I8); }
    }

    /// <summary>A memory read as the interpreter's ReadOp makes it.</summary>
    internal static ulong ReadMemory(Cpu c, int seg, ulong ea, int size) => c.Read(c.SegmentLinear(seg, ea), size);

    private void EmitTranslated(Op op, int k)
    {
        var il = _il;
        int bytes = op.A.Size;
        switch (op.Mnemonic)
        {
            case Mnemonic.Nop:
                return;
            case Mnemonic.Mov:
                PushSource(op.B, bytes, k);
                PopReg(op.A.Reg, bytes);
                return;
            case Mnemonic.Movzx:
                PushSource(op.B, op.B.Size, k);
                PopReg(op.A.Reg, bytes);
                return;
            case Mnemonic.Lea:
                // The effective address only (DataMovement.Lea): no segment, no access.
                PushEffectiveAddress(op.B);
                PopReg(op.A.Reg, bytes);
                return;
            case Mnemonic.Push or Mnemonic.Pop:
                EmitStackOp(op, k);
                return;
            case Mnemonic.Swapgs:
                EmitGuarded(op, k, MTrySwapgs);
                return;
            case Mnemonic.Imul:
            {
                // Arithmetic.Imul2/Imul3: both factors sign-extended from the operand size (the immediate from its own).
                if (op.I.OpCount == 2) { PushReg(op.A.Reg); PushSignExtended(bytes); }
                PushSource(op.B, bytes, k);
                PushSignExtended(bytes);
                if (op.I.OpCount == 3)
                {
                    int immSize = op.C.Size == 0 ? bytes : op.C.Size;
                    long imm = immSize switch { 1 => (sbyte)op.C.Value, 2 => (short)op.C.Value, 4 => (int)op.C.Value, _ => (long)op.C.Value };
                    il.Emit(OpCodes.Ldc_I8, imm);
                }
                il.Emit(OpCodes.Ldc_I4, bytes);
                il.Emit(OpCodes.Ldloca, _arith);
                il.Emit(OpCodes.Call, MImul);
                PopReg(op.A.Reg, bytes);
                _localOp = LazyOp.None;
                _materialised = true;
                return;
            }
            case Mnemonic.Shl or Mnemonic.Sal or Mnemonic.Shr or Mnemonic.Sar:
            {
                // Shifts by a constant: the count masked as the hardware masks it; 0 changes nothing but a 32-bit
                // register's upper half; otherwise Shifts' own result and flags (materialised, as its handlers leave them).
                int n = (int)((op.I.OpCount == 1 ? 1UL : op.B.Value) & (bytes == 8 ? 0x3FUL : 0x1FUL));
                PushReg(op.A.Reg);
                if (n == 0) { PopReg(op.A.Reg, bytes); return; }
                if (bytes == 4) { il.Emit(OpCodes.Conv_U4); il.Emit(OpCodes.Conv_U8); }
                il.Emit(OpCodes.Ldc_I4, n);
                il.Emit(OpCodes.Ldc_I4, bytes);
                il.Emit(OpCodes.Ldloca, _arith);
                il.Emit(OpCodes.Call, op.Mnemonic switch { Mnemonic.Shr => MShr, Mnemonic.Sar => MSar, _ => MShl });
                PopReg(op.A.Reg, bytes);
                _localOp = LazyOp.None;
                _materialised = true;
                return;
            }
            case Mnemonic.Inc or Mnemonic.Dec:
            {
                // Arithmetic.IncR/DecR: CF is kept from before, the rest comes from a ± 1.
                var kind = op.Mnemonic == Mnemonic.Inc ? LazyOp.Inc : LazyOp.Dec;
                PushCF();
                il.Emit(OpCodes.Stloc, _lzCarry);
                var a = il.DeclareLocal(typeof(ulong));
                var r = il.DeclareLocal(typeof(ulong));
                PushReg(op.A.Reg);
                il.Emit(OpCodes.Stloc, a);
                il.Emit(OpCodes.Ldloc, a);
                il.Emit(OpCodes.Ldc_I8, 1L);
                il.Emit(kind == LazyOp.Inc ? OpCodes.Add : OpCodes.Sub);
                il.Emit(OpCodes.Stloc, r);
                il.Emit(OpCodes.Ldloc, r);
                PopReg(op.A.Reg, bytes);
                SetFlagRecord(kind, bytes, a, () => il.Emit(OpCodes.Ldc_I8, 1L), r);
                return;
            }
            default:
            {
                // FastAlu.Alu: the record keeps the full 64-bit operands and result; readers mask to the width.
                var a = il.DeclareLocal(typeof(ulong));
                var b = il.DeclareLocal(typeof(ulong));
                var r = il.DeclareLocal(typeof(ulong));
                PushReg(op.A.Reg);
                il.Emit(OpCodes.Stloc, a);
                // A register source is the full register, as FastAlu reads it; a memory source the operand's bytes.
                if (op.B.Kind == OperandKind.Mem) PushSource(op.B, bytes, k);
                else if (op.B.Kind == OperandKind.Imm) il.Emit(OpCodes.Ldc_I8, (long)op.B.Value);
                else PushReg(op.B.Reg);
                il.Emit(OpCodes.Stloc, b);
                il.Emit(OpCodes.Ldloc, a);
                il.Emit(OpCodes.Ldloc, b);
                var (code, kind, writes) = op.Mnemonic switch
                {
                    Mnemonic.Add => (OpCodes.Add, LazyOp.Add, true),
                    Mnemonic.Sub => (OpCodes.Sub, LazyOp.Sub, true),
                    Mnemonic.Cmp => (OpCodes.Sub, LazyOp.Sub, false),
                    Mnemonic.And => (OpCodes.And, LazyOp.Logic, true),
                    Mnemonic.Or => (OpCodes.Or, LazyOp.Logic, true),
                    Mnemonic.Xor => (OpCodes.Xor, LazyOp.Logic, true),
                    _ => (OpCodes.And, LazyOp.Logic, false),
                };
                il.Emit(code);
                il.Emit(OpCodes.Stloc, r);
                if (writes) { il.Emit(OpCodes.Ldloc, r); PopReg(op.A.Reg, bytes); }
                SetFlagRecord(kind, bytes, a, () => il.Emit(OpCodes.Ldloc, b), r);
                return;
            }
        }
    }

    /// <summary>
    /// Sets the Cpu's retired count to what it is before this pass's next instruction (plus <paramref name="extra"/>):
    /// the count at entry, the earlier iterations, the instructions of this pass so far. An absolute value, so it can
    /// be set before every instruction that may fault and again at the exit.
    /// </summary>
    private void SyncRetired(int extra)
    {
        int n = _unsynced + extra;
        _il.Emit(OpCodes.Ldarg_1);
        _il.Emit(OpCodes.Ldloc, _base);
        _il.Emit(OpCodes.Ldc_I8, (long)n);
        _il.Emit(OpCodes.Add);
        if (_loops) { _il.Emit(OpCodes.Ldloc, _loopRetired); _il.Emit(OpCodes.Add); }
        _il.Emit(OpCodes.Stfld, FRetired);
    }

    private void SetRip(ulong value)
    {
        _il.Emit(OpCodes.Ldarg_1);
        _il.Emit(OpCodes.Ldc_I8, (long)value);
        _il.Emit(OpCodes.Stfld, FRip);
    }

    private void SetIndex(int k)
    {
        _il.Emit(OpCodes.Ldarg_1);
        _il.Emit(OpCodes.Ldc_I4, k);
        _il.Emit(OpCodes.Stfld, FIndex);
    }

    /// <summary>An instruction the compiler leaves to the interpreter: the Cpu brought up to date, its handler called, the same exit test.</summary>
    private void EmitCall(Op op, int k)
    {
        var il = _il;
        FlushRegs(commit: true);
        FlushFlags();
        SyncRetired(0);
        SetRip(op.Next);
        SetIndex(k);
        EmitHandler(k);
        // if (c.BreakBlock || c.Rip != op.Next) { retired += 1; return; }
        Label go = il.DefineLabel(), leave = il.DefineLabel();
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldfld, FBreak);
        il.Emit(OpCodes.Brtrue, leave);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldfld, FRip);
        il.Emit(OpCodes.Ldc_I8, (long)op.Next);
        il.Emit(OpCodes.Beq, go);
        il.MarkLabel(leave);
        SyncRetired(1);
        il.Emit(OpCodes.Ret);
        il.MarkLabel(go);
        // The handler may have changed any register: the locals are re-read when next used (all were written back).
        // It may also have changed the mapping, CPL or SS: the stack window closes.
        CloseStackWindow();
        Array.Clear(_loaded);
        Array.Clear(_dirty);
    }

    /// <summary>ops[k].Run(c, ops[k]): the interpreter's own handler for instruction <paramref name="k"/>.</summary>
    private void EmitHandler(int k)
    {
        var il = _il;
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldc_I4, k);
        il.Emit(OpCodes.Ldelem_Ref);
        il.Emit(OpCodes.Ldfld, FOpRun);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldc_I4, k);
        il.Emit(OpCodes.Ldelem_Ref);
        il.Emit(OpCodes.Callvirt, MExecInvoke);
    }

    /// <summary>Leaves the method with the Cpu as the interpreter leaves it: registers and flags written back, RIP, retired count.</summary>
    private void EmitExit(ulong rip, int extra)
    {
        FlushRegs(commit: false);
        FlushFlags(keepLocal: true);
        SetRip(rip);
        SyncRetired(extra);
    }

    /// <summary>
    /// A closing CALL rel or RET. The hit path: the return address pushed (or the target read) through the DTLB, the
    /// target allowed (<see cref="BranchAllowed"/>), RSP moved, RIP set, out. Anything else — a miss, a fault, a target
    /// Branch would refuse — leaves RSP as it was and runs the interpreter's handler as any untranslated instruction does.
    /// The memory a CALL's push wrote before a refused target stays written, as in the handler.
    /// </summary>
    private void EmitCallOrRet(Op op, int k)
    {
        var il = _il;
        int size = op.Size;
        var rsp = RspLocal();
        var newSp = Temp(0);
        var target = Temp(1);
        Label slow = il.DefineLabel();
        il.Emit(OpCodes.Ldloc, rsp);
        il.Emit(OpCodes.Stloc, newSp);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldloca, newSp);
        il.Emit(OpCodes.Ldc_I4, size);
        if (op.Mnemonic == Mnemonic.Call)
        {
            il.Emit(OpCodes.Ldc_I8, (long)op.Next);
            il.Emit(OpCodes.Call, MTryPush);
            il.Emit(OpCodes.Brfalse, slow);
            il.Emit(OpCodes.Ldc_I8, (long)op.A.Value);
            il.Emit(OpCodes.Stloc, target);
        }
        else
        {
            il.Emit(OpCodes.Ldloca, target);
            il.Emit(OpCodes.Call, MTryPop);
            il.Emit(OpCodes.Brfalse, slow);
        }
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldloc, target);
        il.Emit(OpCodes.Call, MBranchAllowed);
        il.Emit(OpCodes.Brfalse, slow);
        il.Emit(OpCodes.Ldloc, newSp);
        il.Emit(OpCodes.Stloc, rsp);
        _dirty[4] = true;
        FlushRegs(commit: false);
        FlushFlags(keepLocal: true);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldloc, target);
        il.Emit(OpCodes.Stfld, FRip);
        SyncRetired(1);
        il.Emit(OpCodes.Ret);
        il.MarkLabel(slow);
        EmitCall(op, k);
        // The handler ended the block (a branch always moves RIP away from the next instruction); this is not reached.
        EmitExit(op.Next, 1);
        il.Emit(OpCodes.Ret);
    }

    /// <summary>Whether <see cref="ControlFlow.Branch"/> would take <paramref name="target"/> without a fault, in 32- or 64-bit code.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static bool BranchAllowed(Cpu c, ulong target) =>
        c.Mode == CpuMode.Long64 ? Cpu.IsCanonical(target) : target <= c.Seg[(int)SegReg.CS].Limit;

    private void EmitClosingBranch(Op op, int k, Label head)
    {
        var il = _il;
        ulong target = op.A.Value;
        Label taken = il.DefineLabel();
        bool conditional = op.Mnemonic != Mnemonic.Jmp;
        if (conditional)
        {
            PushCondition(op.Sub);
            il.Emit(OpCodes.Brtrue, taken);
            // Not taken: on to the next instruction.
            EmitExit(op.Next, 1);
            il.Emit(OpCodes.Ret);
        }
        il.MarkLabel(taken);
        if (_loops)
        {
            // Taken back to the start: another iteration while the budget allows. With calls into the interpreter in
            // the loop, the flag record goes back to the Cpu (a handler before the first writer reads it there) and
            // the registers they may have changed are re-read, so every iteration starts from the same state.
            Label leave = il.DefineLabel();
            // The next iteration starts with the flags in the Cpu's fields (the state the body was compiled for) when
            // anything in it can look there before its first writer: a call, or an instruction that can fault (the
            // fault takes RFLAGS from the fields).
            if (HasCalls || _ops.Any(CanFault)) FlushFlags(keepLocal: true);
            il.Emit(OpCodes.Ldloc, _iters);
            il.Emit(OpCodes.Ldc_I8, 1L);
            il.Emit(OpCodes.Sub);
            il.Emit(OpCodes.Dup);
            il.Emit(OpCodes.Stloc, _iters);
            il.Emit(OpCodes.Ldc_I8, 0L);
            il.Emit(OpCodes.Beq, leave);
            // Registers a call or a stack instruction left only in the Cpu are re-read, so the next iteration finds
            // every register it uses in its local (RSP after a PUSH or POP, anything after a call); in a loop of
            // register instructions nothing is re-read.
            var loadedBefore = (bool[])_loaded.Clone();
            foreach (var r in RegistersTouched()) if (!_loaded[r]) Load(r);
            Array.Copy(loadedBefore, _loaded, _loaded.Length);
            il.Emit(OpCodes.Ldloc, _loopRetired);
            il.Emit(OpCodes.Ldc_I8, (long)_ops.Length);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Stloc, _loopRetired);
            il.Emit(OpCodes.Br, head);
            il.MarkLabel(leave);
        }
        // Leaving by the branch: the interpreter's check of the target (canonical / CS limit) can fault at this instruction.
        FlushRegs(commit: false);
        FlushFlags(keepLocal: true);
        SyncRetired(0);
        SetRip(op.Next);
        SetIndex(k);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldc_I8, (long)target);
        il.Emit(OpCodes.Call, MBranch);
        SyncRetired(1);
        il.Emit(OpCodes.Ret);
    }

    /// <summary>
    /// Whether the block may branch to its own start without the interpreter's per-branch check: in 64-bit mode the
    /// start is canonical (it was fetched); elsewhere it must lie inside the CS limit, which cannot change inside a
    /// block of register instructions.
    /// </summary>
    internal static bool LoopAllowed(Cpu c, ulong start) =>
        c.Mode == CpuMode.Long64 || start <= c.Seg[(int)SegReg.CS].Limit;
}
