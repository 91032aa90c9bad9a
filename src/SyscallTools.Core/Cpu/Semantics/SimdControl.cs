using System.Buffers.Binary;
using System.Runtime.Intrinsics;
using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>LDMXCSR STMXCSR (SSE) and FXSAVE FXRSTOR (FXSR): the SIMD control register and the whole x87/SSE state image.</summary>
internal sealed class SimdControl
{
    public static readonly SimdControl Instance = new();

    /// <summary>FXSAVE's image: the legacy region up to the end of XMM15 (SDM Vol. 1 Table 10-2); bytes 416-511 are never written.</summary>
    private const int ImageBytes = 416, XmmOffset = 160;

    public Exec? Bind(Op op)
    {
        switch (op.I.Code)
        {
            case Code.Ldmxcsr_m32: return SimdBind.Mark(op, 0, Ldmxcsr);
            case Code.Stmxcsr_m32: return SimdBind.Mark(op, 0, Stmxcsr);
            case Code.Fxsave_m512byte: op.Sub = 0; return Fxsave;
            case Code.Fxsave64_m512byte: op.Sub = 1; return Fxsave;
            case Code.Fxrstor_m512byte: op.Sub = 0; return Fxrstor;
            case Code.Fxrstor64_m512byte: op.Sub = 1; return Fxrstor;
            default: return null;
        }
    }

    private void Ldmxcsr(Cpu c, Op op)
    {
        c.SimdCheck(op);
        uint v = (uint)c.ReadOp(op.A);
        if ((v & ~Cpu.MxcsrMask) != 0) throw CpuFaultException.Gp(0, $"LDMXCSR 0x{v:x} sets reserved MXCSR bits");
        c.Mxcsr = v;
    }

    private void Stmxcsr(Cpu c, Op op)
    {
        c.SimdCheck(op);
        c.WriteOp(op.A, c.Mxcsr);
    }

    /// <summary>FXSAVE/FXRSTOR: #UD without CPUID.FXSR, #NM with CR0.TS or CR0.EM, #GP(0) unless the image is 16-byte aligned.</summary>
    private static ulong ImageLinear(Cpu c, Op op, string name)
    {
        if ((c.Profile.Leaf1Edx & CpuProfile.Leaf1EdxFxsr) == 0) throw CpuFaultException.Ud($"{name}: CPUID.01H:EDX.FXSR is 0 on {c.Profile.Name}");
        if ((c.Cr0 & (ControlBits.Cr0Ts | ControlBits.Cr0Em)) != 0) throw CpuFaultException.Nm($"{name} with CR0.TS or CR0.EM set");
        ulong linear = c.Linear(op.A);
        if ((linear & 15) != 0) throw CpuFaultException.Gp(0, $"{name}: the save area at 0x{linear:x} is not 16-byte aligned");
        return linear;
    }

    /// <summary>XMM8-15 are in the image only in 64-bit mode.</summary>
    private static int XmmCount(Cpu c) => c.Mode == CpuMode.Long64 ? 16 : 8;

    private void Fxsave(Cpu c, Op op)
    {
        ulong linear = ImageLinear(c, op, "FXSAVE");
        int bytes = XmmOffset + 16 * XmmCount(c);
        Span<byte> img = stackalloc byte[ImageBytes];
        c.WriteFxImage(img, pointers64: op.Sub == 1, XmmCount(c));
        c.ProbeWrite(linear, bytes, c.Cpl == 3);
        for (int k = 0; k < bytes; k += 8) c.Write(c.Wrap(linear + (ulong)k), 8, BinaryPrimitives.ReadUInt64LittleEndian(img[k..]));
    }

    private void Fxrstor(Cpu c, Op op)
    {
        ulong linear = ImageLinear(c, op, "FXRSTOR");
        int bytes = XmmOffset + 16 * XmmCount(c);
        Span<byte> img = stackalloc byte[ImageBytes];
        for (int k = 0; k < bytes; k += 8) BinaryPrimitives.WriteUInt64LittleEndian(img[k..], c.Read(c.Wrap(linear + (ulong)k), 8));
        uint mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(img[24..]);
        if (!c.ReadFxImage(img, pointers64: op.Sub == 1, XmmCount(c)))
            throw CpuFaultException.Gp(0, $"FXRSTOR of MXCSR 0x{mxcsr:x} with reserved bits set");
    }
}
