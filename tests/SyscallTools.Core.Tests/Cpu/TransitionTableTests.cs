using SyscallTools.Core.Cpu;
using SyscallTools.Core.Tests.Support;
using Xunit;

namespace SyscallTools.Core.Tests.CpuTests;

using Cpu = SyscallTools.Core.Cpu.Cpu;

/// <summary>
/// One-instruction tables: every privileged transition × vendor × mode (Vectors/transitions.txt) and the
/// system instructions (Vectors/system.txt). Each row runs one instruction and checks the new state (or the
/// exact fault, with nothing changed).
/// </summary>
public class TransitionTableTests
{
    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var file in new[] { "transitions.txt", "system.txt" })
        {
            foreach (var row in VectorFile.Rows(file))
            {
                var vendors = row[1] == "both" ? new[] { "intel", "amd" } : new[] { row[1] };
                foreach (var v in vendors) data.Add(file, row[0], v);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Transition(string file, string name, string vendor)
    {
        var row = VectorFile.Rows(file).First(r => r[0] == name);
        var profile = vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3;
        var modeRing = row[2].Split(' ');
        var mode = modeRing[0] switch { "64" => TestMode.Long64, "compat" => TestMode.Compat, _ => TestMode.Legacy };
        var cpu = TestMachine.Create(profile, mode, kernel: modeRing[1] == "kernel");
        TestMachine.Code(cpu, TestMachine.Hex(row[3]));
        var init = VectorFile.KeyValues(row[4]);
        if (init.TryGetValue("rflags", out var f)) cpu.Rflags = VectorFile.Number(f);
        foreach (var (reg, gpr) in new[] { ("rax", Gpr.Rax), ("rbx", Gpr.Rbx), ("rcx", Gpr.Rcx), ("rdx", Gpr.Rdx), ("r11", Gpr.R11) })
            if (init.TryGetValue(reg, out var v)) cpu[gpr] = VectorFile.Number(v);
        foreach (var (key, value) in init)
        {
            if (key.StartsWith("msr:", StringComparison.Ordinal)) cpu.WriteMsr((uint)VectorFile.Number(key[4..]), VectorFile.Number(value));
            if (key.StartsWith("mem64:", StringComparison.Ordinal)) cpu.Memory.WriteUInt64(VectorFile.Number(key[6..]), VectorFile.Number(value));
            if (key == "gsbase") cpu.WriteMsr(Msr.GsBase, VectorFile.Number(value));
        }
        if (init.TryGetValue("stack", out var st)) PushFrame(cpu, VectorFile.Numbers(st), 8);
        if (init.TryGetValue("stack32", out var st32)) PushFrame(cpu, VectorFile.Numbers(st32), 4);

        var before = Snapshot(cpu);
        var result = cpu.Run(1);
        var expect = VectorFile.KeyValues(row[5]);

        if (expect.TryGetValue("fault", out var fault))
        {
            Assert.Equal(StopReason.Fault, result.Reason);
            Assert.Equal(fault, FaultText(result.Fault!));
            Assert.Equal(before, Snapshot(cpu)); // a fault changes nothing
            if (expect.TryGetValue("cpl", out var fcpl)) Assert.Equal((int)VectorFile.Number(fcpl), result.Fault!.Cpl);
            return;
        }
        Assert.True(result.Reason == StopReason.BudgetExhausted, $"{name}: {result}");
        foreach (var (key, value) in expect)
        {
            switch (key)
            {
                case "cs": Assert.Equal(VectorFile.Number(value), cpu.GetSegment(SegReg.CS).Selector); break;
                case "ss": Assert.Equal(VectorFile.Number(value), cpu.GetSegment(SegReg.SS).Selector); break;
                case "ssdpl": Assert.Equal((int)VectorFile.Number(value), cpu.GetSegment(SegReg.SS).Dpl); break;
                case "ssnull": Assert.True(cpu.GetSegment(SegReg.SS).Unusable); break;
                case "rip": Assert.Equal(VectorFile.Number(value), cpu.Rip); break;
                case "rsp": Assert.Equal(VectorFile.Number(value), cpu[Gpr.Rsp]); break;
                case "rcx": Assert.Equal(VectorFile.Number(value), cpu[Gpr.Rcx]); break;
                case "r11": Assert.Equal(VectorFile.Number(value), cpu[Gpr.R11]); break;
                case "rflags": Assert.Equal($"0x{VectorFile.Number(value):x}", $"0x{cpu.Rflags:x}"); break;
                case "cpl": Assert.Equal((int)VectorFile.Number(value), cpu.Cpl); break;
                case "mode": Assert.Equal(value, cpu.Mode.ToString()); break;
                case "rax": Assert.Equal(VectorFile.Number(value), cpu[Gpr.Rax]); break;
                case "rdx": Assert.Equal(VectorFile.Number(value), cpu[Gpr.Rdx]); break;
                case "ds": Assert.Equal(VectorFile.Number(value), cpu.GetSegment(SegReg.DS).Selector); break;
                case "gsbase": Assert.Equal(VectorFile.Number(value), cpu.ReadMsr(Msr.GsBase)); break;
                case "kgsbase": Assert.Equal(VectorFile.Number(value), cpu.ReadMsr(Msr.KernelGsBase)); break;
                case "shadow": Assert.Equal(value == "1", cpu.InInterruptShadow); break;
                case "gdtr":
                {
                    var parts = value.Split(':');
                    Assert.Equal(new DescriptorTable(VectorFile.Number(parts[0]), (ushort)VectorFile.Number(parts[1])), cpu.Gdtr);
                    break;
                }
                case "tr":
                {
                    var parts = value.Split(':');
                    Assert.Equal((VectorFile.Number(parts[0]), VectorFile.Number(parts[1])), ((ulong)cpu.Tr.Selector, cpu.Tr.Base));
                    break;
                }
                case "busy":
                    Assert.Equal(VectorFile.Number(value), (cpu.Memory.ReadUInt64(cpu.Gdtr.Base + 0x40) >> 40) & 0xF);
                    break;
                case "frame": AssertFrame(cpu, VectorFile.Numbers(value), 8); break;
                case "frame32": AssertFrame(cpu, VectorFile.Numbers(value), 4); break;
                default: throw new InvalidDataException($"unknown key {key} in {name}");
            }
        }
    }

    private static string FaultText(CpuFault f) => f.HasErrorCode ? $"{f.Mnemonic}(0x{f.ErrorCode:x})" : f.Mnemonic;

    private static void PushFrame(Cpu cpu, ulong[] words, int size)
    {
        ulong sp = cpu[Gpr.Rsp] - (ulong)(words.Length * size);
        for (int i = 0; i < words.Length; i++)
        {
            if (size == 8) cpu.Memory.WriteUInt64(sp + (ulong)(8 * i), words[i]);
            else cpu.Memory.WriteUInt32(sp + (ulong)(4 * i), (uint)words[i]);
        }
        cpu[Gpr.Rsp] = sp;
    }

    private static void AssertFrame(Cpu cpu, ulong[] words, int size)
    {
        for (int i = 0; i < words.Length; i++)
        {
            ulong at = cpu[Gpr.Rsp] + (ulong)(size * i);
            ulong v = size == 8 ? cpu.Memory.ReadUInt64(at) : cpu.Memory.ReadUInt32(at);
            Assert.Equal($"[{i}]=0x{words[i]:x}", $"[{i}]=0x{v:x}");
        }
    }

    private static string Snapshot(Cpu cpu) =>
        string.Join(' ', Enum.GetValues<Gpr>().Select(g => $"{g}={cpu[g]:x}"))
        + $" rip={cpu.Rip:x} rflags={cpu.Rflags:x} cs={cpu.GetSegment(SegReg.CS).Selector:x} ss={cpu.GetSegment(SegReg.SS).Selector:x} cpl={cpu.Cpl} mode={cpu.Mode}";
}
