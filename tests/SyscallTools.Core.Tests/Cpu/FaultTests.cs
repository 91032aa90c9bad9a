using Iced.Intel;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Memory;
using SyscallTools.Core.Tests.Support;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace SyscallTools.Core.Tests.CpuTests;

using Cpu = SyscallTools.Core.Cpu.Cpu;

/// <summary>Architectural faults from user code: #PF error codes (SDM Vol. 3A §4.7), #GP/#SS for non-canonical addresses, #UD, bad bytes.</summary>
public class FaultTests
{
    private static (Cpu Cpu, RunResult Result) Run(TestMode mode, Action<Assembler> body, Action<Cpu>? setup = null, CpuProfile? profile = null)
    {
        var cpu = TestMachine.Create(profile ?? CpuProfile.AmdZen3, mode);
        int bits = mode == TestMode.Long64 ? 64 : 32;
        TestMachine.Code(cpu, Asm.Build(bits, cpu.Rip, body));
        setup?.Invoke(cpu);
        return (cpu, cpu.Run(1000));
    }

    private static void AssertFault(RunResult r, byte vector, uint? error = null, ulong? cr2 = null)
    {
        Assert.True(r.Reason == StopReason.Fault, r.ToString());
        Assert.Equal(Vector.Mnemonic(vector), r.Fault!.Mnemonic);
        if (error is uint e) Assert.Equal($"0x{e:x}", $"0x{r.Fault.ErrorCode:x}");
        if (cr2 is ulong c) Assert.Equal(c, r.Fault.Cr2);
    }

    [Fact]
    public void UserWriteToReadOnlyPageIsPresentWriteUser()
    {
        var (cpu, r) = Run(TestMode.Long64, a => { a.mov(rax, 0x60_8000); a.mov(__dword_ptr[rax], 1); },
            c => c.Memory.Protect(0x60_8000, 0x1000, PageFlags.UserReadOnly));
        AssertFault(r, Vector.PF, AddressSpace.PfPresent | AddressSpace.PfWrite | AddressSpace.PfUser, 0x60_8000);
        Assert.Equal(TestMachine.UserCode + 10, r.Fault!.Rip); // the faulting MOV, after the 10-byte mov rax, imm64
    }

    [Fact]
    public void UserReadOfSupervisorPageIsPresentUser()
    {
        var (_, r) = Run(TestMode.Long64, a => { a.mov(rax, TestMachine.K64 + 0x10000); a.mov(ecx, __dword_ptr[rax]); });
        AssertFault(r, Vector.PF, AddressSpace.PfPresent | AddressSpace.PfUser, TestMachine.K64 + 0x10000);
    }

    [Fact]
    public void IdivOfTheMostNegativeDividendByMinusOneIsADivideError()
    {
        // SDM IDIV: "If the quotient is too large to fit in the designated quotient register, #DE" — 2^63 / -1 and
        // 2^127 / -1 included (found by the kernel-code fuzzer: a host OverflowException before).
        var (_, r32) = Run(TestMode.Long64, a => { a.mov(edx, 0x8000_0000); a.xor(eax, eax); a.mov(esi, -1); a.idiv(esi); });
        Assert.Equal(Vector.DE, r32.Fault?.Vector);
        var (_, r64) = Run(TestMode.Long64, a => { a.mov(rdx, long.MinValue); a.xor(eax, eax); a.mov(rsi, -1L); a.idiv(rsi); });
        Assert.Equal(Vector.DE, r64.Fault?.Vector);
    }

    [Fact]
    public void ReadOfUnmappedPageIsNotPresent()
    {
        var (_, r) = Run(TestMode.Long64, a => { a.mov(ecx, __dword_ptr[0x10_0000]); });
        AssertFault(r, Vector.PF, AddressSpace.PfUser, 0x10_0000);
    }

    [Fact]
    public void FetchFromNoExecutePageIsAnInstructionFetchFault()
    {
        // Jump into the data area, which is mapped NX: I/D is set because EFER.NXE is on.
        var (_, r) = Run(TestMode.Long64, a => { a.mov(rax, TestMachine.UserData); a.jmp(rax); });
        AssertFault(r, Vector.PF, AddressSpace.PfPresent | AddressSpace.PfUser | AddressSpace.PfFetch, TestMachine.UserData);
        Assert.Equal(TestMachine.UserData, r.Fault!.Rip);
    }

    [Fact]
    public void NonCanonicalDataAccessIsGeneralProtection()
    {
        var (_, r) = Run(TestMode.Long64, a => { a.mov(rax, 0x0000_8000_0000_0000); a.mov(ecx, __dword_ptr[rax]); });
        AssertFault(r, Vector.GP, 0);
    }

    [Fact]
    public void NonCanonicalStackAccessIsStackFault()
    {
        var (_, r) = Run(TestMode.Long64, a => { a.mov(rsp, 0x0000_8000_0000_0010); a.push(rax); });
        AssertFault(r, Vector.SS, 0);
    }

    [Fact]
    public void JumpToNonCanonicalAddressFaultsAtTheJump()
    {
        var (_, r) = Run(TestMode.Long64, a => { a.mov(rax, 0x0000_8000_0000_0000); a.jmp(rax); });
        AssertFault(r, Vector.GP, 0);
        Assert.Equal(TestMachine.UserCode + 10, r.Fault!.Rip);
    }

    [Fact]
    public void DivideByZeroIsDivideError()
    {
        var (cpu, r) = Run(TestMode.Long64, a => { a.xor(ecx, ecx); a.mov(eax, 7); a.div(ecx); });
        AssertFault(r, Vector.DE);
        Assert.Equal(7UL, cpu[Gpr.Rax]); // nothing changed
    }

    [Fact]
    public void Ud2IsArchitecturalUndefinedOpcode()
    {
        var (_, r) = Run(TestMode.Long64, a => a.ud2());
        AssertFault(r, Vector.UD);
        Assert.Null(r.Fault!.NotModelled);
    }

    [Fact]
    public void UnimplementedInstructionSaysNotModelled()
    {
        // PSHUFB xmm0, xmm1: valid SSSE3, beyond the modelled SSE2.
        var (_, r) = Run(TestMode.Long64, a => a.pshufb(xmm0, xmm1));
        AssertFault(r, Vector.UD);
        Assert.Equal("PSHUFB", r.Fault!.NotModelled);
    }

    [Theory]
    [InlineData("0f 0b")]          // ud2 itself, for contrast: decodes, architecturally #UD
    [InlineData("c4")]             // truncated VEX prefix followed by zeros
    [InlineData("8f ea 78 12 c0")] // an XOP encoding
    [InlineData("0f ff")]          // UD0 without ModRM on some decoders
    public void MalformedBytesAreFaultsNotHostExceptions(string hex)
    {
        var cpu = TestMachine.Create(CpuProfile.AmdZen3, TestMode.Long64);
        TestMachine.Code(cpu, TestMachine.Hex(hex));
        var r = cpu.Run(10);
        Assert.Equal(StopReason.Fault, r.Reason);
        Assert.True(r.Fault!.Vector is Vector.UD or Vector.PF, r.ToString());
    }

    [Fact]
    public void InstructionRunningIntoAnUnmappedPageFaultsOnThatPage()
    {
        var cpu = TestMachine.Create(CpuProfile.AmdZen3, TestMode.Long64);
        ulong end = TestMachine.UserCode + 0x10000;       // the first byte after the mapped code
        cpu.Rip = end - 2;
        cpu.Memory.WriteBytes(cpu.Rip, [0x48, 0xB8]);       // mov rax, imm64 — the immediate is missing
        var r = cpu.Run(10);
        AssertFault(r, Vector.PF, AddressSpace.PfUser | AddressSpace.PfFetch, end);
        Assert.Equal(end - 2, r.Fault!.Rip);
    }

    [Fact]
    public void FetchFromSupervisorCodeInRing3Faults()
    {
        var cpu = TestMachine.Create(CpuProfile.IntelSkylake, TestMode.Long64);
        cpu.Rip = TestMachine.Handler(TestMode.Long64, 0);
        var r = cpu.Run(10);
        AssertFault(r, Vector.PF, AddressSpace.PfPresent | AddressSpace.PfUser | AddressSpace.PfFetch, cpu.Rip);
    }

    [Theory]
    [InlineData("f4", 0u)]           // hlt
    [InlineData("fa", 0u)]           // cli with IOPL 0
    [InlineData("0f 32", 0u)]        // rdmsr
    [InlineData("0f 30", 0u)]        // wrmsr
    [InlineData("0f 20 c0", 0u)]     // mov rax, cr0
    [InlineData("0f 01 f8", 0u)]     // swapgs
    [InlineData("0f 01 10", 0u)]     // lgdt [rax]
    [InlineData("ec", 0u)]           // in al, dx
    public void PrivilegedInstructionsInRing3AreGeneralProtection(string hex, uint error)
    {
        var cpu = TestMachine.Create(CpuProfile.AmdZen3, TestMode.Long64);
        TestMachine.Code(cpu, TestMachine.Hex(hex));
        var r = cpu.Run(10);
        AssertFault(r, Vector.GP, error);
        Assert.Equal(TestMachine.UserCode, r.Fault!.Rip);
        Assert.Equal(3, r.Fault.Cpl);
    }

    [Fact]
    public void StringInstructionFaultLeavesProgressInRegisters()
    {
        // rep stosb into a buffer that ends at an unmapped page: 16 bytes fit, the 17th faults.
        ulong end = TestMachine.UserData + 0x10000;
        var (cpu, r) = Run(TestMode.Long64, a => { a.mov(rdi, end - 16); a.mov(ecx, 40); a.mov(al, 0xAB); a.rep.stosb(); });
        AssertFault(r, Vector.PF, AddressSpace.PfWrite | AddressSpace.PfUser, end);
        Assert.Equal(24UL, cpu[Gpr.Rcx]);
        Assert.Equal(end, cpu[Gpr.Rdi]);
        Assert.Equal(0xABABABABABABABABUL, cpu.Memory.ReadUInt64(end - 8));
    }
}
