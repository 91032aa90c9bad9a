using SyscallTools.Core.Cpu;
using SyscallTools.Core.Memory;
using SyscallTools.Core.Tests.Support;
using Xunit;

namespace SyscallTools.Core.Tests.CpuTests;

using Cpu = SyscallTools.Core.Cpu.Cpu;

/// <summary>
/// User-mode instructions against values recorded by running the same bytes natively on an x86-64 machine
/// (Vectors/native/gen.py, committed with its output). Only the flags the manuals define for each case
/// (the mask column) are compared.
/// </summary>
public class NativeVectorTests
{
    public const ulong DataPage = 0x0500_0000, StackPage = 0x0501_0000, CodePage = 0x0502_0000;
    public const ulong InitialSp = 0x0501_0800;

    private static readonly string[] Names64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
    private static readonly string[] Names32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in new[] { "native-64.txt", "native-32.txt" })
        {
            if (!File.Exists(VectorFile.PathOf(file))) continue;
            foreach (var row in VectorFile.Rows(file)) data.Add(file, row[0]);
        }
        return data;
    }

    [Fact]
    public void VectorFilesArePresentAndLarge()
    {
        foreach (var file in new[] { "native-64.txt", "native-32.txt" })
        {
            Assert.True(File.Exists(VectorFile.PathOf(file)), $"{file} is missing");
            Assert.True(VectorFile.Rows(file).Count() >= 200, $"{file} has too few cases");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesHardware(string file, string name) => Check(file, name, compileThreshold: -1);

    /// <summary>The same vectors with every block translated by the block compiler before it first runs.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesHardwareCompiled(string file, string name) => Check(file, name, compileThreshold: 0);

    private static void Check(string file, string name, int compileThreshold)
    {
        var row = VectorFile.Rows(file).First(r => r[0] == name);
        bool is64 = file.Contains("64", StringComparison.Ordinal);
        var names = is64 ? Names64 : Names32;
        // The vectors were recorded on an Intel machine (see Vectors/native/README.md).
        var cpu = TestMachine.Create(CpuProfile.IntelSkylake, is64 ? TestMode.Long64 : TestMode.Compat);
        cpu.CompileThreshold = compileThreshold;
        cpu.Memory.Map(DataPage, 0x1000, PageFlags.UserData);
        cpu.Memory.Map(StackPage, 0x1000, PageFlags.UserData);
        cpu.Memory.Map(CodePage, 0x1000, PageFlags.User | PageFlags.Writable);
        var code = TestMachine.Hex(row[1]);
        cpu.Memory.WriteBytes(CodePage, code);
        cpu.Rip = CodePage;
        cpu[Gpr.Rsp] = InitialSp;
        var init = VectorFile.KeyValues(row[2]);
        for (int r = 0; r < names.Length; r++)
            if (init.TryGetValue(names[r], out var v)) cpu[(Gpr)r] = VectorFile.Number(v);
        if (init.TryGetValue("flags", out var fl)) cpu.Rflags = VectorFile.Number(fl) | 0x202;
        int memLen = 0;
        if (init.TryGetValue("mem", out var mem))
        {
            var bytes = TestMachine.Hex(mem);
            memLen = bytes.Length;
            cpu.Memory.WriteBytes(DataPage, bytes);
        }
        cpu.AddStopAddress(CodePage + (ulong)code.Length);
        var result = cpu.Run(100_000);
        var expect = VectorFile.KeyValues(row[3]);
        ulong mask = VectorFile.Number(VectorFile.KeyValues(row[4])["mask"]);

        ulong userSp = cpu[Gpr.Rsp];
        if (expect.TryGetValue("fault", out var vec))
        {
            int vector = (int)VectorFile.Number(vec);
            if (result.Reason == StopReason.Halted)
            {
                // A software interrupt (INT3) was delivered to its HLT handler: the frame holds the user state.
                ulong handler = cpu.Rip - 1;
                Assert.Equal(TestMachine.Handler(TestMode.Long64, vector), handler);
                userSp = cpu.Memory.ReadUInt64(cpu[Gpr.Rsp] + 24);
            }
            else
            {
                Assert.True(result.Reason == StopReason.Fault, $"{name}: expected fault {vector}, got {result}");
                Assert.Equal(vector, (int)result.Fault!.Vector);
                if (expect.TryGetValue("err", out var err)) Assert.Equal(VectorFile.Number(err), (ulong)result.Fault.ErrorCode);
                if (expect.TryGetValue("addr", out var addr)) Assert.Equal(VectorFile.Number(addr), result.Fault.Cr2);
            }
        }
        else
        {
            Assert.True(result.Reason == StopReason.Stopped, $"{name}: {result}");
            if (expect.TryGetValue("flags", out var ef))
                Assert.Equal($"0x{VectorFile.Number(ef) & mask:x}", $"0x{cpu.Rflags & mask:x}");
            if (expect.TryGetValue("mem", out var emem))
                Assert.Equal(emem.ToLowerInvariant().Replace(" ", ""), Convert.ToHexString(cpu.Memory.ReadBytes(DataPage, memLen)).ToLowerInvariant());
        }
        for (int r = 0; r < names.Length; r++)
        {
            if (!expect.TryGetValue(names[r], out var ev)) continue;
            ulong actual = r == 4 ? userSp : cpu[(Gpr)r];
            if (!is64) actual = (uint)actual;
            Assert.True(VectorFile.Number(ev) == actual, $"{name}: {names[r]} expected {ev}, got 0x{actual:x}");
        }
    }
}
