namespace SyscallTools.Core.Linux;

/// <summary>
/// The machine's random numbers (AT_RANDOM, getrandom): SplitMix64 from a fixed seed. A machine has no host
/// randomness, so two runs of the same program see the same bytes.
/// </summary>
public sealed partial class LinuxMachine
{
    private ulong _randomState = 0x5359_5343_414C_4C53;   // "SYSCALLS"

    internal byte[] RandomBytes(int count)
    {
        var b = new byte[count];
        for (int i = 0; i < count; i += 8)
        {
            ulong z = _randomState += 0x9E37_79B9_7F4A_7C15;
            z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9;
            z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB;
            z ^= z >> 31;
            for (int j = 0; j < 8 && i + j < count; j++) b[i + j] = (byte)(z >> (8 * j));
        }
        return b;
    }
}
