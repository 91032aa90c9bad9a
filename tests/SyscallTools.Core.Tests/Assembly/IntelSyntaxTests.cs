using SyscallTools.Core.Assembly;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using Xunit;

namespace SyscallTools.Core.Tests.AssemblyTests;

/// <summary>
/// The Intel-syntax assembler. Expected bytes are the encodings the Intel SDM gives (and GNU as / NASM produce),
/// written out by hand, never produced by Iced in the test.
/// </summary>
public class IntelSyntaxTests
{
    private static string Hex(byte[] b) => Convert.ToHexString(b).ToLowerInvariant();
    private static string A32(params string[] lines) => Hex(IntelSyntax.Assemble(lines, 32, 0x0805_0000));
    private static string A64(params string[] lines) => Hex(IntelSyntax.Assemble(lines, 64, 0x40_8000));

    [Theory]
    [InlineData("mov eax, 20", "b814000000")]            // B8+rd id
    [InlineData("int 0x80", "cd80")]                    // CD ib
    [InlineData("int 80h", "cd80")]                     // MASM-style hex suffix
    [InlineData("int3", "cc")]
    [InlineData("sysenter", "0f34")]
    [InlineData("syscall", "0f05")]
    [InlineData("sysexit", "0f35")]
    [InlineData("iret", "cf")]                          // iretd in 32-bit code
    [InlineData("nop", "90")]
    [InlineData("hlt", "f4")]
    [InlineData("ud2", "0f0b")]
    [InlineData("cpuid", "0fa2")]
    [InlineData("ret", "c3")]
    [InlineData("ret 4", "c20400")]
    [InlineData("push ecx", "51")]
    [InlineData("pop ebp", "5d")]
    [InlineData("push 5", "6a05")]                      // imm8 sign-extended is the short form
    [InlineData("push 0x12345678", "6878563412")]
    [InlineData("push 0x202", "6802020000")]            // a 16-bit immediate still pushes 4 bytes, not PUSHW (66h)
    [InlineData("pushfd", "9c")]
    [InlineData("pushf", "9c")]
    [InlineData("popf", "9d")]
    [InlineData("mov ebp, esp", "89e5")]                // 89 /r, as GNU as and NASM pick
    [InlineData("mov ebp, ecx", "89cd")]
    [InlineData("xor eax, eax", "31c0")]
    [InlineData("add esp, 4", "83c404")]                // 83 /0 ib beats 81 /0 id
    [InlineData("add eax, 0x1000", "0500100000")]       // 05 id (the EAX form) is shortest
    [InlineData("sub eax, -1", "83e8ff")]
    [InlineData("and eax, 0xffffffff", "83e0ff")]       // the unsigned spelling of -1 still fits imm8
    [InlineData("cmp al, 0xff", "3cff")]
    [InlineData("mov al, 'A'", "b041")]
    [InlineData("inc ecx", "41")]                       // 40+rd exists in 32-bit code
    [InlineData("dec dword ptr [eax]", "ff08")]
    [InlineData("mov ecx, dword ptr [esp+4]", "8b4c2404")]
    [InlineData("mov dword ptr [ebx+esi*4+8], 5", "c744b30805000000")]
    [InlineData("mov eax, [ebx+esi*4+8]", "8b44b308")]
    [InlineData("mov eax, [4*esi+ebx+8]", "8b44b308")]  // terms in any order
    [InlineData("mov eax, [ebx-8]", "8b43f8")]
    [InlineData("mov eax, [ebx+0x100]", "8b8300010000")] // disp32 when disp8 does not fit
    [InlineData("mov eax, [0xb7ff0400]", "a10004ffb7")]  // moffs form is the shortest
    [InlineData("mov ebx, [0xb7ff0400]", "8b1d0004ffb7")]
    [InlineData("lea eax, [ebx+ecx*2]", "8d044b")]
    [InlineData("mov eax, fs:[0x10]", "64a110000000")]
    [InlineData("mov byte ptr [edi], 0x41", "c60741")]
    [InlineData("mov word ptr [edi], 1", "66c7070100")]
    [InlineData("shl eax, 1", "d1e0")]                  // D1 /4: the by-one form
    [InlineData("shl eax, 4", "c1e004")]
    [InlineData("shr eax, cl", "d3e8")]
    [InlineData("imul eax, ecx, 12", "6bc10c")]
    [InlineData("movzx eax, byte ptr [esi]", "0fb606")]
    [InlineData("mov eax, cr0", "0f20c0")]
    [InlineData("mov ds, ax", "8ed8")]
    [InlineData("push fs", "0fa0")]
    [InlineData("lock inc dword ptr [eax]", "f0ff00")]
    [InlineData("rep movsb", "f3a4")]
    [InlineData("rep stosd", "f3ab")]
    [InlineData("repne scasb", "f2ae")]
    [InlineData("lodsd", "ad")]
    [InlineData("cdq", "99")]
    [InlineData("sete al", "0f94c0")]
    [InlineData("setz al", "0f94c0")]
    [InlineData("cmovnz eax, ebx", "0f45c3")]
    [InlineData("call eax", "ffd0")]
    [InlineData("call dword ptr [eax]", "ff10")]
    [InlineData("call [eax]", "ff10")]                  // the stack width is the default for indirect branches
    [InlineData("jmp ecx", "ffe1")]
    [InlineData("db 0x0f, 0x05", "0f05")]
    [InlineData("mov eax, 0b101", "b805000000")]
    public void Encodes32BitInstructions(string line, string hex) => Assert.Equal(hex, A32(line));

    [Theory]
    [InlineData("mov rax, 39", "48c7c027000000")]        // REX.W C7 /0 id: shorter than B8+r io
    [InlineData("mov rax, 0x123456789", "48b88967452301000000")] // needs the imm64 form
    [InlineData("mov rax, 0xffffffff", "48b8ffffffff00000000")]  // zero-extended value does not fit imm32 sign-extended
    [InlineData("mov rax, -1", "48c7c0ffffffff")]
    [InlineData("mov eax, 39", "b827000000")]
    [InlineData("syscall", "0f05")]
    [InlineData("sysretq", "480f07")]
    [InlineData("sysret", "0f07")]
    [InlineData("iretq", "48cf")]
    [InlineData("push rbx", "53")]
    [InlineData("push r12", "4154")]
    [InlineData("push 0x202", "6802020000")]            // PUSH imm32 (8 bytes on the stack), not the shorter PUSHW imm16
    [InlineData("pushf", "9c")]
    [InlineData("mov r10, rcx", "4989ca")]
    [InlineData("mov r8b, 1", "41b001")]
    [InlineData("mov rdi, [rsp+8]", "488b7c2408")]
    [InlineData("mov qword ptr [rbx+rcx*8], 0", "48c704cb00000000")]
    [InlineData("mov eax, [r12]", "418b0424")]
    [InlineData("xor r11d, r11d", "4531db")]
    [InlineData("add rsp, 8", "4883c408")]
    [InlineData("inc ecx", "ffc1")]                      // 40+rd is REX in 64-bit code
    [InlineData("rep movsq", "f348a5")]
    [InlineData("mov eax, [0x1000]", "8b042500100000")]    // [disp32] through a SIB byte with no base
    [InlineData("mov ax, ds", "8cd8")]
    public void Encodes64BitInstructions(string line, string hex) => Assert.Equal(hex, A64(line));

    [Fact]
    public void LabelsResolveBackwardAndForward()
    {
        // top: dec ecx / jnz top  → 49 75 fd; a forward jmp over one nop → eb 01 90.
        Assert.Equal("4975fd", A32("top:", "dec ecx", "jnz top"));
        Assert.Equal("eb0190", A32("jmp over", "nop", "over: nop").Substring(0, 6));
        Assert.Equal("b9030000004975fd", A32("mov ecx, 3", "again: dec ecx", "jnz again"));
    }

    [Fact]
    public void ShortBranchesGrowWhenTheTargetIsFar()
    {
        var body = Enumerable.Repeat("nop", 200).ToArray();
        var hex = A32(["jmp far_away", .. body, "far_away: nop"]);
        Assert.StartsWith("e9c8000000", hex); // E9 rel32 = 200
    }

    [Fact]
    public void CallsToAbsoluteAddressesAreRelativeToWhereTheCodeSits()
    {
        // call rel32: target - (address + 5).
        ulong at = 0x0805_0000, target = 0xB7FF_0400;
        var bytes = IntelSyntax.Assemble(["call 0xb7ff0400"], 32, at);
        Assert.Equal(0xE8, bytes[0]);
        Assert.Equal((uint)(target - (at + 5)), BitConverter.ToUInt32(bytes, 1));
    }

    [Fact]
    public void ALabelAtTheEndPointsAtAPaddingNop()
    {
        Assert.Equal("eb0090", A32("jmp done", "done:"));
    }

    [Fact]
    public void CommentsBlankLinesAndMultiLineStringsAreAccepted()
    {
        Assert.Equal("b814000000cd80", A32("  ; getpid\n mov eax, 20   ; i386 number\n\n int 0x80 # enter"));
    }

    [Theory]
    [InlineData("mov eax", "no form of 'mov' takes eax")]
    [InlineData("mov eax, ebx, ecx", "no form of 'mov'")]
    [InlineData("frobnicate eax", "unknown instruction 'frobnicate'")]
    [InlineData("mov eax, [ebx+esi*3]", "scale")]
    [InlineData("mov eax, [ebx", "']'")]
    [InlineData("inc [eax]", "ambiguous; say byte, word, dword or qword ptr")]
    [InlineData("mov al, 0x1234", "no form of 'mov'")]
    [InlineData("jmp nowhere", "unknown label or register 'nowhere'")]
    [InlineData("mov rax, 1", "exists only in 64-bit code")]
    [InlineData("mov eax, [rax]", "exists only in 64-bit code")]
    [InlineData("int 0x100", "no form of 'int'")]
    [InlineData("mov eax, 1,", "expected an operand between commas")]
    [InlineData("mov eax, @@", "expected a register, a number")]
    [InlineData("mov dword ptr eax, 1", "needs a memory operand")]
    [InlineData("rep", "expected an instruction after the 'rep' prefix")]
    [InlineData("syscall eax", "no form of 'syscall'")]
    [InlineData("db 300", "byte value")]
    public void ReportsWhatWasExpectedWithTheLineNumber(string line, string expected)
    {
        var e = Assert.Throws<IntelSyntaxException>(() => IntelSyntax.Assemble(["nop", line], 32, 0x1000));
        Assert.Equal(2, e.Line);
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("line 2: ", e.Message);
    }

    [Fact]
    public void RejectsDuplicateLabelsAndRegisterNamedLabels()
    {
        var dup = Assert.Throws<IntelSyntaxException>(() => IntelSyntax.Assemble(["a: nop", "a: nop"], 32, 0));
        Assert.Equal(2, dup.Line);
        Assert.Contains("already defined on line 1", dup.Message);
        var reg = Assert.Throws<IntelSyntaxException>(() => IntelSyntax.Assemble(["eax: nop"], 32, 0));
        Assert.Contains("register name", reg.Message);
    }

    [Fact]
    public void SysexitIsNotAnInstructionOfSixtyFourBitUserCodeButSysenterIs()
    {
        // Both are legal encodings in 64-bit mode (the CPU decides at run time), so both assemble.
        Assert.Equal("0f34", A64("sysenter"));
        Assert.Equal("480f35", A64("sysexitq"));
    }

    [Fact]
    public void AssembledCodeRunsOnTheEmulatedMachine()
    {
        // getpid through int $0x80, then exit(7): the machine's task is pid 4242.
        var m = new LinuxMachine(KernelModel.Find("linux-6.18")!, CpuProfile.AmdZen3);
        var code = IntelSyntax.Assemble([
            "mov eax, 20", "int 0x80", "mov esi, eax",
            "mov ecx, 3", "top: dec ecx", "jnz top"], 32, m.UserText + 0x8000);
        var r = m.RunUserCode(code);
        Assert.Equal("ran to the end of the code", r.Outcome);
        Assert.Equal(4242UL, r.After.Si);
        Assert.Equal(0UL, r.After.Cx);
    }
}
