using SyscallTools.Core.Cpu;
using SyscallTools.Core.Host;
using Xunit;

namespace SyscallTools.Core.Tests.Support;

/// <summary>What every host-agreement test does with a probe: run it natively and emulated, and read both outputs.</summary>
internal static class HostAgreement
{
    /// <summary>
    /// Runs <paramref name="probe"/> on this CPU and in the emulator (with this CPU's vendor profile), asserts both ran
    /// to the end (<paramref name="what"/> names the probe in the message), and returns both parsed outputs.
    /// </summary>
    public static (IReadOnlyDictionary<string, ulong> Host, IReadOnlyDictionary<string, ulong> Emulated) Run(ProbeProgram probe, string what)
    {
        var host = HostProbeRunner.Run(probe, null, TimeSpan.FromSeconds(20));
        var emu = EmulatedProbeRunner.Run(probe, null, HostCapabilities.Vendor ?? CpuVendor.Intel);
        Assert.True(host.ExitStatus == 0, $"{what}: the host run ended with {host.Ending} {host.Error}");
        Assert.True(emu.ExitStatus == 0, $"{what}: the emulated run ended with {emu.Ending} {emu.Error}");
        return (probe.Parse(host.Stdout), probe.Parse(emu.Stdout));
    }

    /// <summary>Stores a 64-bit constant into a probe slot as two dword moves (valid in 32- and 64-bit code).</summary>
    public static ProbeBuilder Store64(this ProbeBuilder b, ulong slot, ulong value) =>
        b.Asm($"mov dword ptr [0x{slot:x}], 0x{(uint)value:x}").Asm($"mov dword ptr [0x{slot + 4:x}], 0x{(uint)(value >> 32):x}");
}
