using Iced.Intel;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Tests.Support;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace SyscallTools.Core.Tests.CpuTests;

using Cpu = SyscallTools.Core.Cpu.Cpu;

/// <summary>
/// SSE/SSE2 and x87-control faults and state from the manuals (the values themselves are checked against this machine's
/// CPU by SseAgreementTests): 16-byte alignment #GP(0), the CR0/CR4/CPUID gates in the order of the instructions'
/// "Protected Mode Exceptions" tables, MXCSR reserved bits, and the FXSAVE image layout (SDM Vol. 1 Table 10-2).
/// </summary>
public class SseTests
{
    private const ulong Data = TestMachine.UserData;

    /// <summary>A user-mode machine with SSE enabled as Linux leaves it (CR4.OSFXSR, CR0.MP|NE).</summary>
    private static Cpu Machine(TestMode mode = TestMode.Long64, CpuProfile? profile = null)
    {
        var cpu = TestMachine.Create(profile ?? CpuProfile.IntelSkylake, mode);
        cpu.Cr4 |= ControlBits.Cr4Osfxsr | ControlBits.Cr4Osxmmexcpt;
        cpu.Cr0 |= ControlBits.Cr0Mp | ControlBits.Cr0Ne;
        return cpu;
    }

    private static RunResult Run(Cpu cpu, Action<Assembler> body, TestMode mode = TestMode.Long64)
    {
        var code = Asm.Build(mode == TestMode.Long64 ? 64 : 32, cpu.Rip, body);
        TestMachine.Code(cpu, code);
        cpu.AddStopAddress(cpu.Rip + (ulong)code.Length);   // the bytes after the code are zeros: ADD [rax], al
        return cpu.Run(100);
    }

    private static void AssertFault(RunResult r, byte vector, bool notModelled = false)
    {
        Assert.True(r.Reason == StopReason.Fault, r.ToString());
        Assert.Equal(Vector.Mnemonic(vector), r.Fault!.Mnemonic);
        Assert.Equal(notModelled, r.Fault.NotModelled is not null);
        if (vector == Vector.GP) Assert.Equal(0u, r.Fault.ErrorCode);
    }

    private static void AssertRanToEnd(RunResult r) => Assert.True(r.Reason == StopReason.Stopped, r.ToString());

    [Theory]
    [InlineData(TestMode.Long64)]
    [InlineData(TestMode.Legacy)]
    public void MovdqaFaultsOnAMisalignedOperandAndMovdquDoesNot(TestMode mode)
    {
        var cpu = Machine(mode);
        cpu.Memory.WriteBytes(Data + 8, Enumerable.Range(1, 16).Select(i => (byte)i).ToArray());
        bool lm = mode == TestMode.Long64;
        var r = Run(cpu, a => { if (lm) { a.mov(rax, Data + 8); a.movdqa(xmm1, __xmmword_ptr[rax]); } else { a.mov(eax, (uint)Data + 8); a.movdqa(xmm1, __xmmword_ptr[eax]); } }, mode);
        AssertFault(r, Vector.GP);
        Assert.Equal(UInt128.Zero, cpu.GetXmm(1));

        cpu = Machine(mode);
        cpu.Memory.WriteBytes(Data + 8, Enumerable.Range(1, 16).Select(i => (byte)i).ToArray());
        AssertRanToEnd(Run(cpu, a => { if (lm) { a.mov(rax, Data + 8); a.movdqu(xmm1, __xmmword_ptr[rax]); } else { a.mov(eax, (uint)Data + 8); a.movdqu(xmm1, __xmmword_ptr[eax]); } a.nop(); }, mode));
        Assert.Equal(new UInt128(0x100F0E0D0C0B0A09, 0x0807060504030201), cpu.GetXmm(1));
    }

    [Fact]
    public void LegacySseArithmeticWithAMisalignedM128Faults()
    {
        // Only the explicitly unaligned moves accept any address; PXOR xmm, m128 is a legacy-SSE 16-byte operand.
        var cpu = Machine();
        AssertFault(Run(cpu, a => { a.mov(rax, Data + 4); a.pxor(xmm0, __xmmword_ptr[rax]); }), Vector.GP);
    }

    [Fact]
    public void SixtyFourBitOperandsNeedNoAlignment()
    {
        var cpu = Machine();
        cpu.Memory.WriteBytes(Data + 3, [1, 2, 3, 4, 5, 6, 7, 8]);
        AssertRanToEnd(Run(cpu, a => { a.mov(rax, Data + 3); a.movq(xmm2, __qword_ptr[rax]); a.movhpd(xmm2, __qword_ptr[rax]); a.nop(); }));
        Assert.Equal(new UInt128(0x0807060504030201, 0x0807060504030201), cpu.GetXmm(2));
    }

    [Fact]
    public void AFaultingAlignedStoreLeavesMemoryUnchanged()
    {
        var cpu = Machine();
        cpu.SetXmm(3, UInt128.MaxValue);
        var r = Run(cpu, a => { a.mov(rax, Data + 0x18); a.movaps(__xmmword_ptr[rax], xmm3); });
        AssertFault(r, Vector.GP);
        Assert.Equal(0UL, cpu.Memory.ReadUInt64(Data + 0x18));
        Assert.Equal(0UL, cpu.Memory.ReadUInt64(Data + 0x20));
    }

    [Fact]
    public void AStoreWhoseSecondHalfFaultsWritesNeitherHalf()
    {
        // MOVUPS has no alignment check, so this store reaches the page walk: its low quadword lies in the last mapped
        // page, its high one in the unmapped page after it. The #PF must leave the low quadword unwritten (both halves
        // are checked before either is stored), as the hardware commits nothing of a faulting store.
        var cpu = Machine();
        cpu.SetXmm(3, UInt128.MaxValue);
        ulong edge = Data + 0x10000;                  // the first byte past the data mapping
        var r = Run(cpu, a => { a.mov(rax, edge - 8); a.movups(__xmmword_ptr[rax], xmm3); });
        AssertFault(r, Vector.PF);
        Assert.Equal(edge, r.Fault!.Cr2);
        Assert.Equal(0UL, cpu.Memory.ReadUInt64(edge - 8));
    }

    [Fact]
    public void WithoutCr4OsfxsrSseIsUndefined()
    {
        var cpu = TestMachine.Create(CpuProfile.IntelSkylake, TestMode.Long64);
        AssertFault(Run(cpu, a => a.pxor(xmm0, xmm0)), Vector.UD);
    }

    [Fact]
    public void MovntiIsAGeneralRegisterStoreWithoutTheSseStateChecks()
    {
        // MOVNTI's exceptions are #UD for SSE2 = 0 (or LOCK) and the memory faults: no CR4.OSFXSR, CR0.EM or CR0.TS check.
        var cpu = TestMachine.Create(CpuProfile.AmdZen3, TestMode.Long64);
        cpu.Cr0 |= ControlBits.Cr0Ts | ControlBits.Cr0Em;
        AssertRanToEnd(Run(cpu, a => { a.mov(rax, Data + 3); a.mov(ecx, 0x12345678); a.movnti(__dword_ptr[rax], ecx); a.nop(); }));
        Assert.Equal(0x12345678u, cpu.Memory.ReadUInt32(Data + 3));
    }

    [Fact]
    public void Cr0EmMakesSseUndefinedAndCr0TsMakesItUnavailable()
    {
        var cpu = Machine();
        cpu.Cr0 |= ControlBits.Cr0Em;
        AssertFault(Run(cpu, a => a.xorps(xmm0, xmm0)), Vector.UD);
        cpu = Machine();
        cpu.Cr0 |= ControlBits.Cr0Ts;
        AssertFault(Run(cpu, a => a.xorps(xmm0, xmm0)), Vector.NM);
        // x87 control instructions take #NM for either bit.
        cpu = Machine();
        cpu.Cr0 |= ControlBits.Cr0Em;
        AssertFault(Run(cpu, a => a.fninit()), Vector.NM);
    }

    [Fact]
    public void AProfileWithoutSse2RefusesSse2ButRunsSse()
    {
        var noSse2 = CpuProfile.IntelSkylake.WithLeaf1(CpuProfile.IntelSkylake.Leaf1Edx & ~CpuProfile.Leaf1EdxSse2, 0, "no SSE2");
        var cpu = Machine(profile: noSse2);
        var r = Run(cpu, a => { a.xorps(xmm0, xmm0); a.pxor(xmm1, xmm1); });
        AssertFault(r, Vector.UD);                                  // the CPU's #UD, not the emulator's "not modelled"
        Assert.Equal(TestMachine.UserCode + 3, r.Fault!.Rip);      // after the 3-byte XORPS, which ran
        var noSse = noSse2.WithLeaf1(noSse2.Leaf1Edx & ~CpuProfile.Leaf1EdxSse, 0, "no SSE");
        AssertFault(Run(Machine(profile: noSse), a => a.xorps(xmm0, xmm0)), Vector.UD);
        Assert.Equal(0u, noSse.Cpuid(1, 0, CpuMode.Long64).Edx & (CpuProfile.Leaf1EdxSse | CpuProfile.Leaf1EdxSse2));
    }

    [Fact]
    public void InstructionsBeyondSse2AreNotModelled()
    {
        AssertFault(Run(Machine(), a => a.pshufb(xmm0, xmm1)), Vector.UD, notModelled: true);   // SSSE3
        AssertFault(Run(Machine(), a => a.ptest(xmm0, xmm1)), Vector.UD, notModelled: true);    // SSE4.1
        AssertFault(Run(Machine(), a => a.addps(xmm0, xmm1)), Vector.UD, notModelled: true);    // packed SSE arithmetic
        AssertFault(Run(Machine(), a => a.fadd(st0, st1)), Vector.UD, notModelled: true);       // x87 arithmetic
    }

    [Fact]
    public void ScalarArithmeticOutsideTheDefaultMxcsrIsNotModelled()
    {
        // Round toward -inf (RC = 01): not modelled, rather than silently rounded to nearest.
        var cpu = Machine();
        cpu.Mxcsr = Cpu.MxcsrDefault | (1u << 13);
        cpu.SetXmm(0, BitConverter.DoubleToUInt64Bits(1.0));
        cpu.SetXmm(1, BitConverter.DoubleToUInt64Bits(3.0));
        AssertFault(Run(cpu, a => a.divsd(xmm0, xmm1)), Vector.UD, notModelled: true);
        // The default: 1/3 rounded to nearest, PE set (SDM Vol. 1 §4.9.1.6).
        cpu = Machine();
        cpu.SetXmm(0, BitConverter.DoubleToUInt64Bits(1.0));
        cpu.SetXmm(1, BitConverter.DoubleToUInt64Bits(3.0));
        AssertRanToEnd(Run(cpu, a => a.divsd(xmm0, xmm1)));
        Assert.Equal(0x3FD5_5555_5555_5555UL, (ulong)cpu.GetXmm(0));
        Assert.Equal(Cpu.MxcsrDefault | 0x20, cpu.Mxcsr);
    }

    [Fact]
    public void LdmxcsrWithAReservedBitIsGpAndLeavesMxcsr()
    {
        var cpu = Machine();
        cpu.Memory.WriteUInt32(Data, 0x1_1F80);
        AssertFault(Run(cpu, a => { a.mov(rax, Data); a.ldmxcsr(__dword_ptr[rax]); }), Vector.GP);
        Assert.Equal(Cpu.MxcsrDefault, cpu.Mxcsr);
    }

    [Fact]
    public void FxsaveWritesTheLegacyImageAndFxrstorReadsItBack()
    {
        var cpu = Machine();
        cpu.SetXmm(0, new UInt128(0x1111, 0x2222));
        cpu.SetXmm(15, new UInt128(0xF0F0, 0x0F0F));
        cpu.Mxcsr = 0x9FC0;
        cpu.Fcw = 0x027F;
        var r = Run(cpu, a =>
        {
            a.mov(rax, Data + 0x200);
            a.fxsave(__[rax]);
            a.pxor(xmm0, xmm0);
            a.pxor(xmm15, xmm15);
            a.fninit();
            a.mov(__dword_ptr[rax + 0x200], 0x1F80);     // MXCSR back to its default, so FXRSTOR must load it
            a.ldmxcsr(__dword_ptr[rax + 0x200]);
            a.fxrstor(__[rax]);
            a.nop();
        });
        AssertRanToEnd(r);
        var img = cpu.Memory.ReadBytes(Data + 0x200, 512);
        Assert.Equal(0x027F, BitConverter.ToUInt16(img, 0));       // FCW
        Assert.Equal(0x9FC0u, BitConverter.ToUInt32(img, 24));     // MXCSR
        Assert.Equal(0xFFFFu, BitConverter.ToUInt32(img, 28));     // MXCSR_MASK
        Assert.Equal(0x2222UL, BitConverter.ToUInt64(img, 160));   // XMM0, low quadword first
        Assert.Equal(0x1111UL, BitConverter.ToUInt64(img, 168));
        Assert.Equal(0x0F0FUL, BitConverter.ToUInt64(img, 160 + 15 * 16)); // XMM15 (64-bit mode)
        Assert.All(img[416..], b => Assert.Equal(0, b));          // bytes 416-511 are not written
        Assert.Equal(new UInt128(0x1111, 0x2222), cpu.GetXmm(0));
        Assert.Equal(new UInt128(0xF0F0, 0x0F0F), cpu.GetXmm(15));
        Assert.Equal((ushort)0x027F, cpu.Fcw);
        Assert.Equal(0x9FC0u, cpu.Mxcsr);
    }

    [Fact]
    public void FxsaveNeedsA16ByteAlignedAreaAndFxrstorRefusesReservedMxcsrBits()
    {
        AssertFault(Run(Machine(), a => { a.mov(rax, Data + 8); a.fxsave(__[rax]); }), Vector.GP);
        var cpu = Machine();
        cpu.Memory.WriteUInt32(Data + 24, 0x8000_1F80);
        AssertFault(Run(cpu, a => { a.mov(rax, Data); a.fxrstor(__[rax]); }), Vector.GP);
        Assert.Equal(Cpu.MxcsrDefault, cpu.Mxcsr);
    }

    [Fact]
    public void FninitLoadsTheDefaultControlWord()
    {
        var cpu = Machine();
        cpu.Fcw = 0;
        cpu.Fsw = 0x3800;
        AssertRanToEnd(Run(cpu, a => { a.fninit(); a.mov(rax, Data); a.fnstcw(__word_ptr[rax]); a.fnstsw(ax); a.nop(); }));
        Assert.Equal(0x037Fu, cpu.Memory.ReadUInt32(Data) & 0xFFFF);  // SDM Vol. 1 Table 8-10
        Assert.Equal(0UL, cpu[Gpr.Rax] & 0xFFFF);
    }
}
