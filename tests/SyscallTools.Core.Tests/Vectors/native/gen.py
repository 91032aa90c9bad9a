#!/usr/bin/env python3
"""Native x86 instruction test-vector generator.

Every case below is a short piece of Intel-syntax assembly.  The generator
assembles all cases with GNU `as` (--32 / --64), builds a C harness with gcc
(-m32 / -m64) that runs each case natively on this CPU in a fixed memory
layout, and writes one line per case to ../native-32.txt and ../native-64.txt.

Execution environment of a case (the emulator must reproduce exactly this):
  data page  0x05000000 (4096 bytes, RW)  -- filled from `mem=` (rest zero)
  stack page 0x05010000 (4096 bytes, RW)  -- zero; RSP/ESP = 0x05010800 unless set
  code page  0x05020000 (RWX)             -- case bytes, execution starts here
  GPRs from the initial values (unlisted ones are 0), flags via POPF.
The harness epilogue placed right after the case bytes stores every GPR and
RFLAGS.  Faults (SIGSEGV/SIGFPE/SIGILL/SIGBUS/SIGTRAP) are caught with a
SA_SIGINFO handler on an alternate stack, which records trap number, error
code, fault address (for #PF) and the register state of the signal context.

Line format (see README.md):
  <id>: <asm> | <hex bytes> | <initial> | <expected> | mask=0x<hex>

Usage: python3 gen.py [--keep DIR]    (standard library only; needs as, objcopy,
nm, gcc and gcc-multilib for -m32)
"""

import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUTDIR = os.path.dirname(HERE)

DATA = 0x05000000
STACK = 0x05010000
STACK_TOP = 0x05010800
CODE = 0x05020000
HARN = 0x05030000   # harness-only page: register in/out areas + scratch stack

CF, PF, AF, ZF, SF, DF, OF = 0x1, 0x4, 0x10, 0x40, 0x80, 0x400, 0x800
STATUS = CF | PF | AF | ZF | SF | OF          # 0x8d5
ALL = STATUS | DF                             # 0xcd5
M_LOGIC = ALL & ~AF                           # AND OR XOR TEST
M_MUL = CF | OF | DF
M_DIV = DF
M_BT = CF | ZF | DF
M_BSF = ZF | DF
M_LZCNT = CF | ZF | DF

CONDS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a',
         's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g']


def cond_true(cc, f):
    """Evaluate condition code cc (index 0..15) on flags f."""
    base = cc >> 1
    of, cf, zf, sf, pf = bool(f & OF), bool(f & CF), bool(f & ZF), bool(f & SF), bool(f & PF)
    v = [of, cf, zf, cf or zf, sf, pf, sf != of, zf or (sf != of)][base]
    return (not v) if (cc & 1) else v


class Rng:
    """splitmix64 -- fixed algorithm so the output never depends on Python's random."""

    def __init__(self, seed):
        self.s = seed & 0xFFFFFFFFFFFFFFFF

    def u64(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def bits(self, n):
        return self.u64() & ((1 << n) - 1)

    def below(self, n):
        return self.u64() % n

    def choice(self, seq):
        return seq[self.below(len(seq))]

    def bytes(self, n):
        return bytes(self.bits(8) for _ in range(n))

    def flags(self, cf=None, df=False):
        f = self.bits(12) & STATUS
        if cf is not None:
            f = (f & ~CF) | (CF if cf else 0)
        if df:
            f |= DF
        return f


# ----------------------------------------------------------------------------
# register model

REGS64 = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp'] + ['r%d' % i for i in range(8, 16)]
REGS32 = ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp']


def build_subregs(mode):
    m = {}
    if mode == 64:
        for x in 'abcd':
            full = 'r%sx' % x
            m[full] = (full, 0, 64)
            m['e%sx' % x] = (full, 0, 32)
            m['%sx' % x] = (full, 0, 16)
            m['%sl' % x] = (full, 0, 8)
            m['%sh' % x] = (full, 8, 8)
        for x in ['si', 'di', 'bp', 'sp']:
            full = 'r' + x
            m[full] = (full, 0, 64)
            m['e' + x] = (full, 0, 32)
            m[x] = (full, 0, 16)
            m[x + 'l'] = (full, 0, 8)
        for i in range(8, 16):
            full = 'r%d' % i
            m[full] = (full, 0, 64)
            m[full + 'd'] = (full, 0, 32)
            m[full + 'w'] = (full, 0, 16)
            m[full + 'b'] = (full, 0, 8)
    else:
        for x in 'abcd':
            full = 'e%sx' % x
            m[full] = (full, 0, 32)
            m['%sx' % x] = (full, 0, 16)
            m['%sl' % x] = (full, 0, 8)
            m['%sh' % x] = (full, 8, 8)
        for x in ['si', 'di', 'bp', 'sp']:
            full = 'e' + x
            m[full] = (full, 0, 32)
            m[x] = (full, 0, 16)
    return m


PTR = {8: 'byte ptr', 16: 'word ptr', 32: 'dword ptr', 64: 'qword ptr'}
SUFFIX = {8: 'b', 16: 'w', 32: 'd', 64: 'q'}


def hx(v):
    return '0x%x' % v


class Case:
    __slots__ = ('cid', 'asm', 'desc', 'regs', 'set_regs', 'flags', 'mem', 'mask',
                 'code', 'result')


class Gen:
    def __init__(self, mode):
        self.mode = mode
        self.w = mode                       # natural register width
        self.regs = REGS64 if mode == 64 else REGS32
        self.sub = build_subregs(mode)
        self.rng = Rng(0x5EED0000 + mode)
        self.cases = []
        self.ids = {}
        self.sizes = [8, 16, 32, 64] if mode == 64 else [8, 16, 32]
        self.SP = 'rsp' if mode == 64 else 'esp'
        self.A = 'rax' if mode == 64 else 'eax'
        self.B = 'rbx' if mode == 64 else 'ebx'
        self.C = 'rcx' if mode == 64 else 'ecx'
        self.D = 'rdx' if mode == 64 else 'edx'
        self.SI = 'rsi' if mode == 64 else 'esi'
        self.DI = 'rdi' if mode == 64 else 'edi'
        self.BP = 'rbp' if mode == 64 else 'ebp'
        self.nat = 8 if mode == 64 else 4   # natural operand size in bytes

    # -- naming --------------------------------------------------------------
    def uid(self, prefix):
        n = self.ids.get(prefix, 0) + 1
        self.ids[prefix] = n
        return '%s_%d' % (prefix, n)

    # -- registers -----------------------------------------------------------
    def rname(self, w, idx):
        """Name of register number idx (0=a,1=c,2=d,3=b,...) at width w."""
        full = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di']
        if idx >= 8:
            return {64: 'r%d', 32: 'r%dd', 16: 'r%dw', 8: 'r%db'}[w] % idx
        b = full[idx]
        if w == 64:
            return 'r' + b
        if w == 32:
            return 'e' + b
        if w == 16:
            return b
        return {'ax': 'al', 'cx': 'cl', 'dx': 'dl', 'bx': 'bl', 'sp': 'spl',
                'bp': 'bpl', 'si': 'sil', 'di': 'dil'}[b]

    def pairs(self, w):
        if self.mode == 64:
            return {8: [('al', 'cl'), ('ah', 'bh'), ('dl', 'ah'), ('sil', 'r9b'), ('r10b', 'bl')],
                    16: [('ax', 'cx'), ('si', 'r10w'), ('r15w', 'dx')],
                    32: [('eax', 'ecx'), ('edi', 'r11d'), ('r8d', 'ebp')],
                    64: [('rax', 'rcx'), ('r12', 'rbx'), ('rdx', 'r14')]}[w]
        return {8: [('al', 'cl'), ('ah', 'bh'), ('dl', 'ah'), ('bl', 'ch')],
                16: [('ax', 'cx'), ('si', 'di'), ('bp', 'dx')],
                32: [('eax', 'ecx'), ('ebx', 'esi'), ('edi', 'ebp')]}[w]

    # -- memory operands -----------------------------------------------------
    def memop(self, w, k):
        """Return (operand text, regs, data-page offset) for addressing form k."""
        p = PTR[w]
        k %= 5
        if self.mode == 64:
            forms = [
                ('[rbx+rsi*4+8]', {'rbx': DATA + 0x10, 'rsi': 3}, 0x24),
                ('[rdi+0x30]', {'rdi': DATA}, 0x30),
                ('[rcx*8+%s]' % hx(DATA + 0x8), {'rcx': 2}, 0x18),
                ('[r13+r12*2-4]', {'r13': DATA + 0x20, 'r12': 6}, 0x28),
                ('[%s]' % hx(DATA + 0x38), {}, 0x38),
            ]
        else:
            forms = [
                ('[ebx+esi*4+8]', {'ebx': DATA + 0x10, 'esi': 3}, 0x24),
                ('[edi+0x30]', {'edi': DATA}, 0x30),
                ('[ecx*8+%s]' % hx(DATA + 0x8), {'ecx': 2}, 0x18),
                ('[ebp+edi*2-4]', {'ebp': DATA + 0x20, 'edi': 6}, 0x28),
                ('[%s]' % hx(DATA + 0x38), {}, 0x38),
            ]
        t, r, off = forms[k]
        return '%s %s' % (p, t), dict(r), off

    # -- value helpers -------------------------------------------------------
    def edges(self, w):
        M = (1 << w) - 1
        H = 1 << (w - 1)
        return [(H - 1, 1), (H, M), (M, 1), (0, 0), (H, H), (1, M), (M, M), (H - 1, H),
                (0xF, 1), (0x10, 1), (H, 1), (0, 1), (H - 1, H - 1), (M, H)]

    def val(self, w):
        r = self.rng.below(8)
        v = self.rng.bits(w)
        if r == 0:   # sparse
            v &= self.rng.bits(w) & self.rng.bits(w)
        return v

    # -- case creation ---------------------------------------------------------
    def add(self, prefix, asm, regs=None, flags=0, mem=None, memlen=None, mask=ALL,
            desc=None, bg=True):
        c = Case()
        c.cid = self.uid(prefix)
        c.asm = asm
        c.desc = desc
        full = {}
        explicit = []
        for name, v in (regs or {}).items():
            fr, sh, w = self.sub[name]
            if fr not in full:
                full[fr] = self.rng.bits(self.mode) if (bg and w < self.mode and fr not in ('rsp', 'esp')) else 0
            m = ((1 << w) - 1) << sh
            full[fr] = (full[fr] & ~m) | ((v << sh) & m)
            if fr not in explicit:
                explicit.append(fr)
        if self.SP not in full:
            full[self.SP] = STACK_TOP
            explicit.append(self.SP)
        c.regs = [full.get(r, 0) for r in self.regs]
        c.set_regs = set(explicit)
        assert flags & ~ALL == 0, flags
        c.flags = flags | 2
        if mem is None and memlen:
            mem = b''
        if mem is not None:
            mem = bytes(mem)
            if memlen is None:
                memlen = len(mem)
            assert len(mem) <= memlen <= 256
            mem = mem + bytes(memlen - len(mem))
        c.mem = mem
        c.mask = mask
        self.cases.append(c)
        return c

    def mem64(self, n=64):
        return self.rng.bytes(n)


# ----------------------------------------------------------------------------
# flag masks for shifts and rotates


def shift_mask(op, w, count):
    c = count & (0x3F if w == 64 else 0x1F)
    if c == 0:
        return ALL
    if op in ('shl', 'shr', 'sar', 'sal'):
        m = ALL & ~AF
        if c != 1:
            m &= ~OF
        if c >= w:          # SDM: CF undefined when count >= operand size
            m &= ~CF
        return m
    m = ALL                  # rotates: only CF/OF written
    if c != 1:
        m &= ~OF
    return m


def dshift_mask(w, count):
    c = count & (0x3F if w == 64 else 0x1F)
    if c == 0:
        return ALL
    assert c <= w
    m = ALL & ~AF
    if c != 1:
        m &= ~OF
    return m


# ----------------------------------------------------------------------------
# case groups


def g_alu(g):
    arith = ['add', 'adc', 'sub', 'sbb', 'cmp']
    ops = arith + ['and', 'or', 'xor', 'test']
    for oi, op in enumerate(ops):
        mask = ALL if op in arith else M_LOGIC
        for w in g.sizes:
            E = g.edges(w)
            n = 2 if w < 32 else 3
            vals = [E[(oi * 3 + j * 5 + w // 8) % len(E)] for j in range(n - 1)] + [(g.val(w), g.val(w))]
            prs = g.pairs(w)
            for j, (a, b) in enumerate(vals):
                d, s = prs[(j + oi) % len(prs)]
                g.add('%s_r%d' % (op, w), '%s %s, %s' % (op, d, s), {d: a, s: b},
                      g.rng.flags(cf=(j + oi) & 1), mask=mask)
        # accumulator short form, imm8 (sign-extended) form, full immediate form
        g.add(op + '_al_imm', '%s al, 0x7f' % op, {'al': 1}, g.rng.flags(cf=1), mask=mask)
        forms = [('_ax_imm', '%s ax, 0x8001', {'ax': 0x7fff}),
                 ('_eax_imm', '%s eax, 0x80000000', {'eax': g.val(32)}),
                 ('_r8_imm', '%s bh, 0x80', {'bh': 0x80}),
                 ('_r32_imm8', '%s edx, -1', {'edx': g.val(32)}),
                 ('_r16_imm8', '%s si, 0x7f', {'si': 0x7f81}),
                 ('_r32_imm32', '%s ebx, 0x12345678', {'ebx': g.val(32)})]
        if g.mode == 64:
            forms += [('_r64_imm8', '%s r9, -0x80', {'r9': g.val(64)}),
                      ('_r64_imm32', '%s rdx, -0x7fffffff', {'rdx': g.val(64)}),
                      ('_rax_imm32', '%s rax, 0x7fffffff', {'rax': 0x7fffffff80000001})]
        if op == 'test':    # TEST has no sign-extended imm8 form
            forms = [f for f in forms if 'imm8' not in f[0]]
        for fi in range(2):
            tag, t, regs = forms[(oi * 2 + fi) % len(forms)]
            g.add(op + tag, t % op, regs, g.rng.flags(cf=fi & 1), mask=mask)
        # memory forms
        ws = g.sizes
        w = ws[oi % len(ws)]
        mo, mr, _ = g.memop(w, oi)
        src = g.rname(w, 0)      # al/ax/eax/rax
        regs = dict(mr)
        regs[src] = g.val(w)
        g.add(op + '_m_r', '%s %s, %s' % (op, mo, src), regs, g.rng.flags(cf=1), g.mem64(), mask=mask)
        w = ws[(oi + 2) % len(ws)]
        mo, mr, _ = g.memop(w, oi + 1)
        dst = g.rname(w, 0)
        regs = dict(mr)
        regs[dst] = g.val(w)
        if op != 'test':
            g.add(op + '_r_m', '%s %s, %s' % (op, dst, mo), regs, g.rng.flags(cf=0), g.mem64(), mask=mask)
        w = ws[(oi + 1) % len(ws)]
        mo, mr, _ = g.memop(w, oi + 2)
        imm = '0x80' if w == 8 else '-2'
        g.add(op + '_m_imm', '%s %s, %s' % (op, mo, imm), mr, g.rng.flags(cf=1), g.mem64(), mask=mask)
        if g.mode == 64 and op in ('add', 'sub', 'and'):
            g.add(op + '_m64_imm32', '%s qword ptr [rbx+0x8], 0x40000000' % op, {'rbx': DATA},
                  g.rng.flags(cf=0), g.mem64(), mask=mask)
    # alternative encodings and same-register forms
    g.add('add_load_form', '{load} add eax, ecx', {'eax': 0xffffffff, 'ecx': 1}, 0,
          desc='add eax, ecx (03 /r form)')
    g.add('add_80_form', '.byte 0x80, 0xc0, 0x7f', {'al': 1}, 0, desc='add al, 0x7f (80 /0 ib form)')
    g.add('sub_81_imm8val', '.byte 0x81, 0xe9, 0x01, 0x00, 0x00, 0x00', {'ecx': 0}, 0,
          desc='sub ecx, 1 (81 /5 id form)')
    g.add('xor_self', 'xor eax, eax', {'eax': 0x12345678}, STATUS, mask=M_LOGIC)
    g.add('sub_self', 'sub ecx, ecx', {'ecx': 0x80000000}, CF | OF, mask=ALL)
    g.add('cmp_r8_imm_eq', 'cmp dl, 0x42', {'dl': 0x42}, 0, mask=ALL)
    g.add('adc_chain', 'add eax, ecx; adc edx, ebx',
          {'eax': 0xffffffff, 'ecx': 1, 'edx': 0x7fffffff, 'ebx': 0}, 0, mask=ALL)
    g.add('sbb_self_cf1', 'sbb eax, eax', {'eax': 0x1234}, CF, mask=ALL)
    g.add('sbb_self_cf0', 'sbb eax, eax', {'eax': 0x1234}, 0, mask=ALL)
    if g.mode == 64:
        g.add('or_r32_zeroext', 'or eax, 0', {'rax': 0xffffffff00000001}, 0, mask=M_LOGIC)
        g.add('and_r8_rex', 'and sil, dil', {'sil': 0xf0, 'dil': 0x3c}, 0, mask=M_LOGIC)


def g_unary(g):
    for op in ['inc', 'dec', 'neg', 'not']:
        for wi, w in enumerate(g.sizes):
            M = (1 << w) - 1
            H = 1 << (w - 1)
            vals = {'inc': [H - 1, M, 0x0f & M, g.val(w)], 'dec': [H, 0, 0x10, g.val(w)],
                    'neg': [0, H, 1, g.val(w)], 'not': [0, H, M, g.val(w)]}[op]
            if w < 32:
                vals = vals[wi % 2:][:1] + vals[3:]
            else:
                vals = vals[:2] + vals[3:] if wi % 2 else vals[1:]
            for j, v in enumerate(vals):
                r = g.pairs(w)[(j + wi) % len(g.pairs(w))][0]
                g.add('%s_r%d' % (op, w), '%s %s' % (op, r), {r: v}, g.rng.flags(cf=j & 1), mask=ALL)
        w = g.sizes[-1 if op in ('inc', 'neg') else 1]
        mo, mr, _ = g.memop(w, 3 if op == 'inc' else 1)
        g.add(op + '_m', '%s %s' % (op, mo), mr, g.rng.flags(cf=1), g.mem64(), mask=ALL)
        mo, mr, _ = g.memop(8, 0)
        g.add(op + '_m8', '%s %s' % (op, mo), mr, g.rng.flags(cf=0), g.mem64(), mask=ALL)
    if g.mode == 32:
        # one-byte INC/DEC forms 0x40-0x4f
        for i, r in enumerate(REGS32):
            if r == 'esp':
                continue
            for op in ('inc', 'dec'):
                v = [0x7fffffff, 0xffffffff, 0x80000000, 0, 0x0f, 0x10, 1][(i + (op == 'dec')) % 7]
                g.add('%s_%s_short' % (op, r), '%s %s' % (op, r), {r: v}, g.rng.flags(cf=i & 1), mask=ALL)
        g.add('inc_esp_short', 'inc esp', {'esp': STACK_TOP}, CF, mask=ALL)
        g.add('dec_esp_short', 'dec esp', {'esp': STACK_TOP}, 0, mask=ALL)
    else:
        g.add('inc_r64_ext', 'inc r15', {'r15': 0x7fffffffffffffff}, CF, mask=ALL)
        g.add('dec_r32_zeroext', 'dec r8d', {'r8': 0xffffffff00000000}, 0, mask=ALL)


def g_muldiv(g):
    for w in g.sizes:
        M = (1 << w) - 1
        H = 1 << (w - 1)
        src = g.rname(w, 1) if w != 8 else 'cl'
        acc = g.rname(w, 0)
        # MUL / one-operand IMUL: acc * src
        for op, vals in [('mul', [(M, M), (2, 3)] if w % 16 else [(M, M), (H, 2)]),
                         ('imul', [(M, M), (H, 2)] if w % 16 else [(H - 1, 2), (M, 3)])]:
            for j, (a, b) in enumerate(vals + [(g.val(w), g.val(w))]):
                regs = {acc: a, src: b}
                if w > 8:
                    regs[g.rname(w, 2)] = g.val(w)
                g.add('%s_r%d' % (op, w), '%s %s' % (op, src), regs, g.rng.flags(cf=j & 1), mask=M_MUL)
        mo, mr, _ = g.memop(w, w + 1)
        regs = dict(mr)
        regs[acc] = g.val(w)
        op = 'mul' if w in (8, 32) else 'imul'
        g.add('%s_m%d' % (op, w), '%s %s' % (op, mo), regs, 0, g.mem64(), mask=M_MUL)
        if w == 8:
            g.add('mul_ah', 'mul ah', {'al': 0x80, 'ah': 0x3}, 0, mask=M_MUL)
            continue
        # two- and three-operand IMUL
        d, s = g.rname(w, 3), g.rname(w, 6)
        for j, (a, b) in enumerate([(H, M), (H - 1, 2), (g.val(w), g.val(w))]):
            g.add('imul2_r%d' % w, 'imul %s, %s' % (d, s), {d: a, s: b}, g.rng.flags(cf=j & 1), mask=M_MUL)
        mo, mr, _ = g.memop(w, w + 2)
        regs = dict(mr)
        regs[d] = g.val(w)
        g.add('imul2_m%d' % w, 'imul %s, %s' % (d, mo), regs, 0, g.mem64(), mask=M_MUL)
        for j, (b, imm) in enumerate([(H, '-1'), (g.val(w), '0x7fff' if w == 16 else '0x12345678')]
                                     if w != 32 else [(0x1234, '0x7f'), (g.val(w), '-0x80'),
                                                      (g.val(w), '0x12345678')]):
            g.add('imul3_r%d' % w, 'imul %s, %s, %s' % (d, s, imm), {d: g.val(w), s: b}, CF | OF, mask=M_MUL)
    # DIV / IDIV
    for w in g.sizes:
        M = (1 << w) - 1
        H = 1 << (w - 1)
        dv = 'cl' if w == 8 else g.rname(w, 3)   # divisor: cl / bx / ebx / rbx
        lo, hi = ('al', 'ah') if w == 8 else (g.rname(w, 0), g.rname(w, 2))
        # (hi, lo, divisor)
        udiv = [(0, 100, 7), (M >> 1, M, M), (g.rng.bits(w - 1), g.val(w), M)]
        sdiv = [(M, (-100) & M, 7), (0, 100, (-7) & M) if w % 16 else (M, H, 1),
                (g.rng.bits(w - 3), g.val(w), (H >> 1) | 1)]
        for op, vals in (('div', udiv), ('idiv', sdiv)):
            for j, (h, l, dvv) in enumerate(vals):
                g.add('%s_r%d' % (op, w), '%s %s' % (op, dv), {hi: h, lo: l, dv: dvv},
                      g.rng.flags(cf=j & 1), mask=M_DIV)
        # faults: divide by zero and quotient overflow (#DE, vector 0)
        g.add('div_zero_r%d' % w, 'div %s' % dv, {hi: 0, lo: 5, dv: 0}, CF, mask=ALL)
        g.add('div_ovf_r%d' % w, 'div %s' % dv, {hi: 1, lo: 0, dv: 1}, 0, mask=ALL)
        g.add('idiv_ovf_r%d' % w, 'idiv %s' % dv, {hi: M, lo: H, dv: M}, ZF, mask=ALL)
        mo, mr, _ = g.memop(w, w + 3)
        regs = dict(mr)
        regs.update({hi: 0, lo: g.val(w)})
        mem = bytearray(g.mem64())
        _, _, off = g.memop(w, w + 3)
        mem[off] |= 1
        g.add('div_m%d' % w, 'div %s' % mo, regs, 0, mem, mask=M_DIV)
    g.add('idiv_zero_m32', 'idiv dword ptr [%s]' % hx(DATA + 0x20), {'eax': 1}, 0, bytes(64), mask=ALL)


def g_shifts(g):
    counts = {8: [0, 1, 3, 7, 8, 9, 17, 31], 16: [0, 1, 8, 15, 16, 17, 31],
              32: [0, 1, 7, 8, 31, 32, 33], 64: [0, 1, 7, 8, 31, 32, 63, 64]}
    if g.mode == 32:
        counts[32] = [0, 1, 7, 8, 31, 32, 33, 2]
    for oi, op in enumerate(['shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr']):
        for wi, w in enumerate(g.sizes):
            cl = counts[w]
            if op in ('rol', 'ror', 'rcl', 'rcr'):
                cl = [cl[(oi + wi + k) % len(cl)] for k in range(0, len(cl), 4)]
                if 1 not in cl:
                    cl.append(1)
            else:
                # every count appears for every size across SHL/SHR/SAR
                cl = [c for k, c in enumerate(cl) if (k + oi + wi) % 2 == 0 or k == 0]
                if 1 not in cl:
                    cl.insert(0, 1)
            for j, c in enumerate(cl):
                dst = [d for d, _ in g.pairs(w) if d not in ('cl', 'ch', 'cx', 'ecx', 'rcx')]
                d = dst[(j + oi) % len(dst)]
                v = g.val(w)
                if j % 3 == 1:
                    v |= 1 << (w - 1)
                fl = g.rng.flags(cf=(j + oi) & 1)
                m = shift_mask(op, w, c)
                if c == 1 and j % 2 == 0:
                    g.add('%s_r%d_1' % (op, w), '%s %s, 1' % (op, d), {d: v}, fl, mask=m)
                elif j % 2:
                    g.add('%s_r%d_cl' % (op, w), '%s %s, cl' % (op, d), {d: v, 'cl': c}, fl, mask=m,
                          desc='%s %s, cl (cl=%d)' % (op, d, c))
                else:
                    g.add('%s_r%d_imm' % (op, w), '%s %s, %d' % (op, d, c), {d: v}, fl, mask=m)
        # memory form
        w = g.sizes[oi % len(g.sizes)]
        mo, mr, _ = g.memop(w, oi)
        c = [1, 3, 5, 1, 4, 2, 7][oi]
        g.add('%s_m%d' % (op, w), '%s %s, %d' % (op, mo, c), mr, g.rng.flags(cf=1), g.mem64(),
              mask=shift_mask(op, w, c))
    g.add('sal_alias', '.byte 0xd1, 0xf0', {'eax': 0x40000001}, 0, mask=shift_mask('shl', 32, 1),
          desc='sal eax, 1 (d1 /6 encoding)')
    g.add('shl_cl_count_hi', 'shl eax, cl', {'eax': 0x1, 'ecx': 0x104}, CF, mask=shift_mask('shl', 32, 4))
    if g.mode == 64:
        g.add('shl_r32_count0_upper', 'shl eax, cl', {'rax': 0xffffffff12345678, 'rcx': 0}, 0,
              mask=ALL, desc='shl eax, cl (count 0: upper half still zeroed)')
        g.add('rol_r32_count0_upper', 'rol ebx, 32', {'rbx': 0xdeadbeef00000001}, CF | OF, mask=ALL)
    # double-precision shifts
    dcounts = {16: [0, 1, 8, 15], 32: [1, 7, 31, 32], 64: [0, 1, 32, 63]}
    for op in ('shld', 'shrd'):
        for w in g.sizes[1:]:
            d, s = g.rname(w, 3), g.rname(w, 6)
            for j, c in enumerate(dcounts[w]):
                v1, v2 = g.val(w), g.val(w)
                fl = g.rng.flags(cf=j & 1)
                m = dshift_mask(w, c)
                if j % 2:
                    g.add('%s_r%d_cl' % (op, w), '%s %s, %s, cl' % (op, d, s), {d: v1, s: v2, 'cl': c}, fl, mask=m,
                          desc='%s %s, %s, cl (cl=%d)' % (op, d, s, c))
                else:
                    g.add('%s_r%d_imm' % (op, w), '%s %s, %s, %d' % (op, d, s, c), {d: v1, s: v2}, fl, mask=m)
        w = g.sizes[-1]
        mo, mr, _ = g.memop(w, 0)
        regs = dict(mr)
        regs[g.rname(w, 2)] = g.val(w)
        g.add('%s_m%d' % (op, w), '%s %s, %s, 5' % (op, mo, g.rname(w, 2)), regs, 0, g.mem64(),
              mask=dshift_mask(w, 5))


def g_bits(g):
    # BT family, register destination
    for oi, op in enumerate(['bt', 'bts', 'btr', 'btc']):
        for wi, w in enumerate(g.sizes[1:]):
            d, s = g.rname(w, 3), g.rname(w, 2)
            if (wi + oi) % 2:
                g.add('%s_r%d_r' % (op, w), '%s %s, %s' % (op, d, s), {d: g.val(w), s: (w + 3 + oi)},
                      g.rng.flags(cf=oi & 1), mask=M_BT)
            else:
                g.add('%s_r%d_imm' % (op, w), '%s %s, %d' % (op, d, (w - 1 - oi) if oi != 1 else w + 2),
                      {d: g.val(w)}, g.rng.flags(cf=1), mask=M_BT)
        # memory, register offset beyond the operand (positive and negative)
        for j, (w, off) in enumerate([[(16, 37), (32, -5)], [(g.w, 100), (32, -33)],
                                      [(16, -1), (32, 70)], [(g.w, -65), (16, 20)]][oi]):
            s = g.rname(w, 2)
            mem = g.mem64()
            g.add('%s_m%d_r' % (op, w), '%s %s [%s+0x20], %s' % (op, PTR[w], g.B, s),
                  {g.B: DATA, s: off & ((1 << w) - 1)}, g.rng.flags(cf=j & 1), mem, mask=M_BT)
        g.add('%s_m32_imm' % op, '%s dword ptr [%s+0x10], %d' % (op, g.B, 37 + oi), {g.B: DATA},
              g.rng.flags(cf=0), g.mem64(), mask=M_BT)
    # BSF / BSR (non-zero sources only), POPCNT, LZCNT, TZCNT
    for op, mask in [('bsf', M_BSF), ('bsr', M_BSF), ('popcnt', ALL), ('lzcnt', M_LZCNT), ('tzcnt', M_LZCNT)]:
        for w in g.sizes[1:]:
            H = 1 << (w - 1)
            vals = [[1, g.val(w) | 1 << (w // 2)], [H, g.val(w) | 0x100]][w % 3 % 2]
            if op not in ('bsf', 'bsr') and w == 32:
                vals[0] = 0
            for j, v in enumerate(vals):
                d, s = g.rname(w, 0), g.rname(w, 3)
                g.add('%s_r%d' % (op, w), '%s %s, %s' % (op, d, s), {d: g.val(w), s: v},
                      g.rng.flags(cf=j & 1), mask=mask)
        mo, mr, _ = g.memop(32, 4)
        mem = bytearray(g.mem64())
        mem[0x38] |= 0x10
        regs = dict(mr)
        regs[g.rname(32, 1)] = g.val(32)
        g.add('%s_m32' % op, '%s ecx, %s' % (op, mo), regs, g.rng.flags(), mem, mask=mask)


def g_mov(g):
    m64 = g.mode == 64
    for w in g.sizes:
        for j, (d, s) in enumerate(g.pairs(w)[1:2]):
            g.add('mov_r%d' % w, 'mov %s, %s' % (d, s), {d: g.val(w), s: g.val(w)}, g.rng.flags())
        d = g.pairs(w)[-1][0]
        imm = {8: 0x9c, 16: 0x8001, 32: 0xdeadbeef, 64: 0x123456789abcdef0}[w]
        g.add('mov_r%d_imm' % w, 'mov %s, %s' % (d, hx(imm)), {d: g.val(w)}, g.rng.flags())
        mo, mr, _ = g.memop(w, w)
        regs = dict(mr)
        regs[g.rname(w, 0)] = g.val(w)
        g.add('mov_m%d_r' % w, 'mov %s, %s' % (mo, g.rname(w, 0)), regs, 0, g.mem64())
        mo, mr, _ = g.memop(w, w + 1)
        regs = dict(mr)
        regs[g.rname(w, 2)] = g.val(w)
        g.add('mov_r%d_m' % w, 'mov %s, %s' % (g.rname(w, 2), mo), regs, 0, g.mem64())
        mo, mr, _ = g.memop(w, w + 2)
        imm = {8: '0xa5', 16: '0x8000', 32: '0x80000001', 64: '-5'}[w]
        g.add('mov_m%d_imm' % w, 'mov %s, %s' % (mo, imm), mr, 0, g.mem64())
    if m64:
        g.add('mov_r32_zeroext', 'mov eax, ecx', {'rax': 0xffffffffffffffff, 'rcx': 0xaaaaaaaa55555555})
        g.add('mov_r64_imm32sx', 'mov rdx, -2', {'rdx': 0})
        g.add('mov_r32_imm_zeroext', 'mov r9d, 0x80000000', {'r9': 0xffffffffffffffff})
        g.add('mov_moffs', 'movabs eax, [%s]' % hx(DATA + 0x10), {'rax': 0xffffffffffffffff}, 0, g.mem64())
        g.add('mov_moffs_store', 'movabs [%s], rax' % hx(DATA + 0x18), {'rax': 0x1122334455667788}, 0, g.mem64())
        g.add('mov_r16_keepupper', 'mov cx, 0x1234', {'rcx': 0xffffffffffffffff})
        g.add('mov_r8h_keepupper', 'mov ah, 0x12', {'rax': 0xffffffffffffffff})
    else:
        g.add('mov_moffs', 'mov eax, [%s]' % hx(DATA + 0x10), {'eax': 0xffffffff}, 0, g.mem64())
        g.add('mov_moffs_store', 'mov [%s], al' % hx(DATA + 0x18), {'eax': 0x11223344}, 0, g.mem64())
        g.add('mov_r16_keepupper', 'mov cx, 0x1234', {'ecx': 0xffffffff})
    # MOVZX / MOVSX / MOVSXD
    for op in ('movzx', 'movsx'):
        for dw, sw in [(16, 8), (32, 8), (32, 16)] + ([(64, 8), (64, 16)] if m64 else []):
            d = g.rname(dw, 2)
            s = g.rname(sw, 3)
            for v in [(1 << (sw - 1)) | g.rng.bits(sw - 1), g.rng.bits(sw - 1)][(dw + sw + len(op)) % 2:][:1]:
                g.add('%s_r%d_r%d' % (op, dw, sw), '%s %s, %s' % (op, d, s), {d: g.val(dw), s: v})
        mo, mr, _ = g.memop(8, 1)
        regs = dict(mr)
        regs['eax'] = g.val(32)
        mem = bytearray(g.mem64())
        mem[0x30] |= 0x80
        g.add('%s_r32_m8' % op, '%s eax, %s' % (op, mo), regs, 0, mem)
        mo, mr, _ = g.memop(16, 2)
        regs = dict(mr)
        regs['si'] = g.val(16)
        mem = bytearray(g.mem64())
        mem[0x19] |= 0x80
        g.add('%s_r16_m16' % op, '%s esi, %s' % (op, mo), regs, 0, mem)
        g.add('%s_ah' % op, '%s ecx, ah' % op, {'ah': 0x85, 'ecx': g.val(32)})
    if m64:
        for v in (0x80000000, 0x7fffffff):
            g.add('movsxd_r64', 'movsxd rax, ecx', {'rax': g.val(64), 'rcx': 0xffffffff00000000 | v})
        g.add('movsxd_m', 'movsxd r10, dword ptr [rbx+4]', {'rbx': DATA, 'r10': 0}, 0,
              bytes([0, 0, 0, 0, 0x01, 0x00, 0x00, 0xf0]) + g.mem64(56))
    # LEA
    if m64:
        leas = [('lea rax, [rbx+rcx*8+0x10]', {'rbx': 0x1000, 'rcx': 0x20}),
                ('lea eax, [rbx+rcx*2-5]', {'rbx': 0xffffffff00000001, 'rcx': 1}),
                ('lea eax, [ebx+ecx*2-5]', {'rbx': 0xffffffff00000001, 'rcx': 1}),
                ('lea ax, [rsi+rdi]', {'rax': 0x1111111111111111, 'rsi': 0xfff0, 'rdi': 0x20}),
                ('lea rax, [rip+0x10]', {}),
                ('lea rcx, [r13]', {'r13': 0x8000000000000000}),
                ('lea rdx, [r12+r12*4]', {'r12': 0x333}),
                ('lea r8, [rsp-8]', {}),
                ('lea rax, [rbx-0x80000000]', {'rbx': 0x10}),
                ('lea rsi, [0x7fffffff]', {})]
    else:
        leas = [('lea eax, [ebx+ecx*8+0x10]', {'ebx': 0x1000, 'ecx': 0x20}),
                ('lea eax, [ebx+ecx*2-5]', {'ebx': 0x1, 'ecx': 1}),
                ('lea ax, [esi+edi]', {'eax': 0x11111111, 'esi': 0xfff0, 'edi': 0x20}),
                ('lea ecx, [eax+eax*4]', {'eax': 0x333}),
                ('lea edx, [esp-8]', {}),
                ('lea eax, [ebx-0x80000000]', {'ebx': 0x10}),
                ('lea esi, [0xffffffff]', {}),
                ('lea edi, [bx+si+2]', {'ebx': 0x1fff0, 'esi': 0x20})]
    for asm, regs in leas:
        g.add('lea', asm, regs, g.rng.flags())
    # XCHG / XADD / CMPXCHG / CMPXCHG8B / BSWAP
    for w in g.sizes:
        d, s = g.pairs(w)[1]
        g.add('xchg_r%d' % w, 'xchg %s, %s' % (d, s), {d: g.val(w), s: g.val(w)})
        mo, mr, _ = g.memop(w, w + 3)
        regs = dict(mr)
        regs[g.rname(w, 0)] = g.val(w)
        g.add('xchg_m%d' % w, 'xchg %s, %s' % (mo, g.rname(w, 0)), regs, 0, g.mem64())
        for j in range(w % 3 % 2, 1 + w % 3 % 2):
            d, s = g.pairs(w)[j]
            a, b = g.edges(w)[j * 2]
            g.add('xadd_r%d' % w, 'xadd %s, %s' % (d, s), {d: a, s: b}, g.rng.flags(), mask=ALL)
        mo, mr, _ = g.memop(w, w)
        regs = dict(mr)
        regs[g.rname(w, 2)] = g.val(w)
        g.add('xadd_m%d' % w, 'lock xadd %s, %s' % (mo, g.rname(w, 2)), regs, g.rng.flags(), g.mem64())
        # cmpxchg register: success and failure
        acc = g.rname(w, 0)
        d, s = g.rname(w, 3), g.rname(w, 1)
        v = g.val(w)
        g.add('cmpxchg_r%d_ok' % w, 'cmpxchg %s, %s' % (d, s), {acc: v, d: v, s: g.val(w)}, g.rng.flags())
        g.add('cmpxchg_r%d_fail' % w, 'cmpxchg %s, %s' % (d, s), {acc: v, d: v ^ 1 << (w - 1), s: g.val(w)},
              g.rng.flags())
        mo, mr, off = g.memop(w, w + 1)
        mem = g.mem64()
        regs = dict(mr)
        regs[acc] = int.from_bytes(mem[off:off + w // 8], 'little')
        regs[g.rname(w, 2)] = g.val(w)
        if w in (8, 32):
            g.add('cmpxchg_m%d_ok' % w, 'lock cmpxchg %s, %s' % (mo, g.rname(w, 2)), regs, g.rng.flags(), mem)
        else:
            regs[acc] ^= 0x10
            g.add('cmpxchg_m%d_fail' % w, 'cmpxchg %s, %s' % (mo, g.rname(w, 2)), regs, g.rng.flags(), mem)
    if m64:
        g.add('xchg_eax_eax_nop', '.byte 0x90', {'rax': 0xffffffff00000001}, desc='xchg eax, eax (90 = nop)')
        g.add('xchg_eax_eax_87', 'xchg eax, eax', {'rax': 0xffffffff00000001}, desc='xchg eax, eax (87 c0, zero-extends)')
        g.add('xchg_r8d_eax', 'xchg r8d, eax', {'rax': 0xffffffff00000001, 'r8': 0xeeeeeeee00000002})
        g.add('cmpxchg_r32_fail_zeroext', 'cmpxchg ecx, edx',
              {'rax': 0xffffffff00000005, 'rcx': 0xffffffff00000007, 'rdx': 9},
              desc='cmpxchg ecx, edx (fail: eax loaded, upper rax zeroed)')
        g.add('cmpxchg_r32_ok_zeroext', 'cmpxchg ecx, edx',
              {'rax': 0xffffffff00000005, 'rcx': 0xffffffff00000005, 'rdx': 9},
              desc='cmpxchg ecx, edx (ok: rax untouched, rcx zero-extended)')
    else:
        g.add('xchg_eax_short', 'xchg eax, edi', {'eax': 1, 'edi': 2})
    # cmpxchg8b / cmpxchg16b
    mem = g.mem64()
    lo = int.from_bytes(mem[0x10:0x14], 'little')
    hi = int.from_bytes(mem[0x14:0x18], 'little')
    a, b, c, d = g.A, g.B, g.C, g.D
    base = g.SI
    g.add('cmpxchg8b_ok', 'lock cmpxchg8b qword ptr [%s+0x10]' % base,
          {base: DATA, a: lo, d: hi, b: 0x11111111, c: 0x22222222}, g.rng.flags(), mem)
    g.add('cmpxchg8b_fail', 'cmpxchg8b qword ptr [%s+0x10]' % base,
          {base: DATA, a: lo, d: hi ^ 0x80000000, b: 0x11111111, c: 0x22222222}, g.rng.flags() | ZF, mem)
    if m64:
        g.add('cmpxchg8b_fail_zeroext', 'cmpxchg8b qword ptr [rsi+0x10]',
              {'rsi': DATA, 'rax': 0xffffffff00000000, 'rdx': 0xffffffff00000000, 'rbx': 1, 'rcx': 2},
              g.rng.flags(), mem)
        q0 = int.from_bytes(mem[0x20:0x28], 'little')
        q1 = int.from_bytes(mem[0x28:0x30], 'little')
        g.add('cmpxchg16b_ok', 'lock cmpxchg16b xmmword ptr [rsi+0x20]',
              {'rsi': DATA, 'rax': q0, 'rdx': q1, 'rbx': g.val(64), 'rcx': g.val(64)}, g.rng.flags(), mem)
        g.add('cmpxchg16b_fail', 'cmpxchg16b xmmword ptr [rsi+0x20]',
              {'rsi': DATA, 'rax': q0 ^ 1, 'rdx': q1, 'rbx': g.val(64), 'rcx': g.val(64)}, g.rng.flags(), mem)
    for w in g.sizes[2:]:
        for r in (g.rname(w, 0), g.rname(w, 7)):
            g.add('bswap_r%d' % w, 'bswap %s' % r, {r: g.val(w)})
    if m64:
        g.add('bswap_r12', 'bswap r12', {'r12': 0x0102030405060708})
        g.add('bswap_r32_zeroext', 'bswap r9d', {'r9': 0xffffffff11223344})


def g_cond(g):
    cands = [0, CF, ZF, SF, OF, PF, CF | ZF, SF | OF, ZF | SF, ZF | OF, STATUS, CF | PF | SF]

    def pick(cc, want):
        order = list(range(len(cands)))
        start = g.rng.below(len(cands))
        for k in order:
            f = cands[(start + k) % len(cands)]
            if cond_true(cc, f) == want:
                return f | (g.rng.bits(12) & (AF | (PF if CONDS[cc] not in ('p', 'np') else 0)))
        raise AssertionError

    for cc, name in enumerate(CONDS):
        for want in (True, False):
            # CMOVcc alternating operand sizes / memory source
            k = (cc * 2 + want) % 4
            f = pick(cc, want)
            tag = 't' if want else 'f'
            if k == 3:
                mo, mr, _ = g.memop(32, cc)
                regs = dict(mr)
                regs['eax'] = g.val(32)
                g.add('cmov%s_m_%s' % (name, tag), 'cmov%s eax, %s' % (name, mo), regs, f, g.mem64())
            else:
                w = [16, 32, g.w][k]
                d, s = g.rname(w, 2), g.rname(w, 6)
                g.add('cmov%s_r%d_%s' % (name, w, tag), 'cmov%s %s, %s' % (name, d, s),
                      {d: g.val(w), s: g.val(w)}, f)
            # SETcc
            f = pick(cc, want)
            k = (cc + want) % 4
            if k == 3:
                mo, mr, _ = g.memop(8, cc)
                g.add('set%s_m_%s' % (name, tag), 'set%s %s' % (name, mo), mr, f, g.mem64())
            else:
                r = ['al', 'bh', 'r9b' if g.mode == 64 else 'dl'][k]
                g.add('set%s_%s' % (name, tag), 'set%s %s' % (name, r), {r: g.val(8)}, f)
            # Jcc (short) forward inside the case
            f = pick(cc, want)
            g.add('j%s_%s' % (name, tag), 'j%s 1f; mov eax, 1; 1: mov ecx, 2' % name,
                  {'eax': 0, 'ecx': 0}, f)
        # near form (rel32) for a few conditions
        if cc % 4 == 0:
            f = pick(cc, True)
            g.add('j%s_near' % name, 'j%s 1f; mov eax, 1; .fill 130, 1, 0x90; 1: mov ecx, 2' % name,
                  {'eax': 0, 'ecx': 0}, f, desc='j%s 1f (rel32) over mov eax,1 + 130 nops' % name)
    # compare + branch sequences
    g.add('cmp_jl', 'cmp eax, ecx; jl 1f; mov edx, 1; 1:', {'eax': (-5) & 0xffffffff, 'ecx': 3, 'edx': 0}, 0)
    g.add('cmp_jb', 'cmp eax, ecx; jb 1f; mov edx, 1; 1:', {'eax': (-5) & 0xffffffff, 'ecx': 3, 'edx': 0}, 0)
    g.add('jmp_short', 'jmp 1f; mov eax, 1; 1:', {'eax': 0}, 0)
    g.add('jmp_near', 'jmp 1f; mov eax, 1; .fill 200, 1, 0x90; 1:', {'eax': 0}, 0,
          desc='jmp 1f (rel32) over mov eax,1 + 200 nops')
    # LOOP / LOOPE / LOOPNE / JECXZ / JRCXZ
    C = g.C
    for n in (0, 1, 5):
        g.add('loop', 'loop 1f; mov eax, 1; 1:', {C: n, 'eax': 0}, 0)
    g.add('loop_count', 'xor eax, eax; 2: add eax, 3; loop 2b', {C: 4}, 0, mask=ALL,
          desc='xor eax,eax; 2: add eax,3; loop 2b (backward loop inside the case)')
    for n, f in ((2, ZF), (2, 0), (1, ZF)):
        g.add('loope', 'loope 1f; mov eax, 1; 1:', {C: n, 'eax': 0}, f)
        g.add('loopne', 'loopne 1f; mov eax, 1; 1:', {C: n, 'eax': 0}, f)
    if g.mode == 64:
        for v in (0, 1, 0x100000000):
            g.add('jecxz', 'jecxz 1f; mov eax, 1; 1:', {'rcx': v, 'eax': 0}, 0)
            g.add('jrcxz', 'jrcxz 1f; mov eax, 1; 1:', {'rcx': v, 'eax': 0}, 0)
        g.add('loop_a32', 'addr32 loop 1f; mov eax, 1; 1:', {'rcx': 0x100000001, 'eax': 0}, 0,
              desc='loop 1f with 67 prefix (uses ecx)')
        g.add('call_pop', 'call 1f; 1: pop rax', {}, 0)
        g.add('call_ret', 'call 1f; jmp 2f; 1: ret; 2: mov ecx, 7', {}, 0)
        g.add('jmp_ind', 'lea rax, [rip+1f]; jmp rax; mov ecx, 1; 1:', {'rcx': 0}, 0)
        g.add('ret_imm', 'call 1f; jmp 2f; 1: ret 8; 2:', {}, 0)
    else:
        for v in (0, 1, 0x10000):
            g.add('jecxz', 'jecxz 1f; mov eax, 1; 1:', {'ecx': v, 'eax': 0}, 0)
            g.add('jcxz', 'jcxz 1f; mov eax, 1; 1:', {'ecx': v, 'eax': 0}, 0)
        g.add('loop_a16', 'addr16 loop 1f; mov eax, 1; 1:', {'ecx': 0x10001, 'eax': 0}, 0,
              desc='loop 1f with 67 prefix (uses cx)')
        g.add('call_pop', 'call 1f; 1: pop eax', {}, 0)
        g.add('call_ret', 'call 1f; jmp 2f; 1: ret; 2: mov ecx, 7', {}, 0)
        g.add('ret_imm', 'call 1f; jmp 2f; 1: ret 8; 2:', {}, 0)


def g_convert(g):
    ops = [('cbw', 'ax', 8), ('cwde', 'eax', 16), ('cwd', 'ax', 16), ('cdq', 'eax', 32)]
    if g.mode == 64:
        ops += [('cdqe', 'rax', 32), ('cqo', 'rax', 64)]
    for op, reg, sw in ops:
        for v in (1 << (sw - 1), (1 << (sw - 1)) - 1):
            regs = {g.A: g.rng.bits(g.w), g.D: g.rng.bits(g.w)}
            fr = g.A
            full = (regs[fr] & ~((1 << sw) - 1)) | v
            regs[fr] = full
            g.add(op, op, regs, g.rng.flags())


def g_stack(g):
    m64 = g.mode == 64
    n = g.nat
    SP, A, B, C = g.SP, g.A, g.B, g.C
    top = DATA + 0x40
    g.add('push_pop_r', 'push %s; pop %s' % (C, 'r11' if m64 else 'edx'), {C: g.val(g.w)})
    g.add('push_r', 'push %s' % B, {B: g.val(g.w), SP: top}, 0, g.mem64())
    if m64:
        g.add('push_r15', 'push r15', {'r15': g.val(64), 'rsp': top}, 0, g.mem64())
        g.add('pop_r9', 'pop r9', {'rsp': top - 0x10}, 0, g.mem64())
    g.add('pop_r', 'pop %s' % C, {SP: top - 0x10}, 0, g.mem64())
    g.add('push_imm8', 'push -2', {SP: top}, 0, g.mem64())
    g.add('push_imm32', 'push 0x80000000' if not m64 else 'push -0x7fffffff', {SP: top}, 0, g.mem64())
    g.add('push_m', 'push %s [%s+8]' % (PTR[g.w], B), {B: DATA, SP: top}, 0, g.mem64())
    g.add('pop_m', 'pop %s [%s+0x8]' % (PTR[g.w], B), {B: DATA, SP: top - 0x18}, 0, g.mem64())
    g.add('pop_m_sp', 'pop %s [%s]' % (PTR[g.w], SP), {SP: top - 0x18}, 0, g.mem64(),
          desc='pop %s [%s] (address computed after increment)' % (PTR[g.w], SP))
    g.add('push_sp', 'push %s' % SP, {SP: top}, 0, g.mem64())
    g.add('pop_sp', 'pop %s' % SP, {SP: top - 0x10}, 0, g.mem64())
    g.add('push16_r', 'push ax; pop bx' if not m64 else 'push ax; pop r8w', {'eax': 0x1234abcd, SP: top}, 0,
          g.mem64())
    g.add('push16_imm', '.byte 0x66, 0x68, 0xf0, 0x7f', {SP: top}, 0, g.mem64(), desc='push word 0x7ff0 (66 68 iw)')
    g.add('push_pop_seq', 'push %s; push %s; pop %s; pop %s' % (A, B, A, B), {A: g.val(g.w), B: g.val(g.w)})
    # PUSHF / POPF / LAHF / SAHF / flag instructions
    pf, ppf = ('pushfq', 'popfq') if m64 else ('pushfd', 'popfd')
    for f in (0, STATUS, CF | ZF | DF, OF | SF | PF | AF):
        g.add('pushf', '%s; pop %s' % (pf, A), {}, f)
    g.add('pushf_m', pf, {SP: top}, STATUS | DF, g.mem64(),
          desc='%s (image written to the data page; includes IF=1 and bit 1)' % pf)
    for img in (0x2, 0x8d7, 0xcd7, 0x3cd7, 0x0202):
        g.add('popf', 'push %s; %s; %s; pop %s' % (C, ppf, pf, B), {C: img}, STATUS,
              desc='push %s; %s; %s; pop %s (image %s)' % (C, ppf, pf, B, hx(img)))
    g.add('popf_m', ppf, {SP: top - 0x10}, 0, bytes(0x30) + bytes([0xd5, 0x08]) + bytes(14),
          desc='%s from data page image 0x8d5' % ppf)
    for j in range(3):
        g.add('lahf', 'lahf', {'eax': g.val(32)}, [0, STATUS, CF | SF | AF][j])
    for ah in (0, 0xff, 0xd5, 0x2a):
        g.add('sahf', 'sahf', {'ah': ah}, [OF, 0, OF | DF, 0][ah & 3])
    for op in ('clc', 'stc', 'cmc', 'cld', 'std'):
        for f in (0, STATUS | DF):
            g.add(op, op, {}, f)
    # LEAVE / ENTER
    saved = g.val(g.w)
    mem = bytearray(g.mem64())
    mem[0x20:0x20 + n] = saved.to_bytes(n, 'little')
    g.add('leave', 'leave', {g.BP: DATA + 0x20, SP: STACK_TOP}, 0, mem)
    g.add('enter', 'enter 0x10, 0', {g.BP: g.val(g.w), SP: top}, 0, g.mem64())
    g.add('enter', 'enter 0x0, 0', {g.BP: g.val(g.w), SP: top}, 0, g.mem64())
    g.add('enter_leave', 'enter 0x20, 0; mov %s, %s; leave' % (C, SP), {g.BP: g.val(g.w), SP: top}, 0, g.mem64())
    if not m64:
        regs = {r: g.val(32) for r in REGS32 if r != 'esp'}
        regs['esp'] = top
        g.add('pushad', 'pushad', regs, 0, g.mem64())
        img = g.mem64()
        g.add('popad', 'popad', {'esp': DATA + 0x10}, 0, img)
        regs = {r: g.val(32) for r in REGS32 if r != 'esp'}
        regs['esp'] = top
        g.add('pushad_popad', 'pushad; popad', regs, 0, g.mem64())
        g.add('pushaw', 'pushaw', {'eax': 0x11112222, 'ecx': 0x33334444, 'esp': top}, 0, g.mem64())


def g_string(g):
    m64 = g.mode == 64
    SI, DI, C, A = g.SI, g.DI, g.C, g.A
    ML = 0x80
    SRC, DST = 0x08, 0x48        # regions of 0x38 bytes each
    k = 0
    for op in ('movs', 'stos', 'lods', 'cmps', 'scas'):
        for w in g.sizes:
            e = w // 8
            sfx = SUFFIX[w]
            mn = op + sfx
            # variants: (prefix, count, df)
            variants = [('', None, bool(k & 1)),
                        ('rep ', [0, 1, 2, 3, 4, 5][k % 6], not (k & 1))]
            if op in ('cmps', 'scas'):
                variants = variants[:1] + [('repe ', [5, 0, 5, 3][k % 4], bool(k & 2)),
                                           ('repne ', [5, 4, 1, 5][k % 4], not (k & 2))]
            k += 1
            for pfx, cnt, df in variants:
                mem = bytearray(g.mem64(ML))
                n_el = cnt if cnt is not None else 1
                si = DATA + (SRC if not df else SRC + 0x30)
                di = DATA + (DST if not df else DST + 0x30)
                regs = {SI: si, DI: di, C: cnt if cnt is not None else 0x1234 & (g.rng.bits(16) | 0x8)}
                regs[A] = g.val(g.w)

                def el(base, i):
                    o = (base + 0x30 - i * e) if df else (base + i * e)
                    return o
                if op == 'cmps' or op == 'scas':
                    # make the first `stop` elements equal (repe) / different (repne)
                    stop = 2 + (k % 3) if pfx.startswith('rep') and cnt else 0
                    avals = []
                    for i in range(max(n_el, 1) + 1):
                        so, do = el(SRC, i), el(DST, i)
                        if op == 'cmps':
                            if pfx == 'repe ':
                                if i < stop:
                                    mem[do:do + e] = mem[so:so + e]
                            elif pfx == 'repne ':
                                if i == stop:
                                    mem[do:do + e] = mem[so:so + e]
                        else:
                            avals.append(bytes(mem[do:do + e]))
                    if op == 'scas':
                        if pfx == 'repe ':
                            v = int.from_bytes(avals[0], 'little')
                            for i in range(min(stop, len(avals))):
                                do = el(DST, i)
                                mem[do:do + e] = v.to_bytes(e, 'little')
                        elif pfx == 'repne ':
                            do = el(DST, stop)
                            v = int.from_bytes(mem[do:do + e], 'little')
                        else:
                            v = g.val(w)
                            if g.rng.bits(1):
                                do = el(DST, 0)
                                v = int.from_bytes(mem[do:do + e], 'little')
                        regs[A] = (regs[A] & ~((1 << w) - 1)) | v
                fl = g.rng.flags(df=df) & ~DF | (DF if df else 0)
                asm = '%s%s' % (pfx, mn)
                dsc = '%s%s (%s%s)' % (pfx, mn, 'DF=1' if df else 'DF=0',
                                       (', count %d' % cnt) if cnt is not None else '')
                g.add('%s%s' % (pfx.strip() + '_' if pfx else '', mn), asm, regs, fl, mem, desc=dsc)
    # address-size override variants
    if m64:
        g.add('movsb_a32', 'addr32 rep movsb',
              {'rsi': 0xffffffff00000000 | (DATA + 8), 'rdi': 0xffffffff00000000 | (DATA + 0x48), 'rcx': 0xffffffff00000003},
              0, g.mem64(ML), desc='rep movsb with 67 prefix (esi/edi/ecx)')
        g.add('stosd_zeroext', 'stosd', {'rdi': DATA + 0x10, 'rax': 0xffffffff01020304}, 0, g.mem64(ML))
        g.add('lodsd_zeroext', 'lodsd', {'rsi': DATA + 0x10, 'rax': 0xffffffffffffffff}, 0, g.mem64(ML))
    else:
        g.add('movsb_a16_fault', 'addr16 rep movsb', {'esi': 8, 'edi': 0x48, 'ecx': 3},
              0, g.mem64(ML), desc='rep movsb with 67 prefix reading [si]=8 (#PF)')


def g_faults(g):
    m64 = g.mode == 64
    A = g.A
    g.add('pf_write', 'mov dword ptr [0x100], eax', {'eax': 0x1234}, CF)
    g.add('pf_read', 'mov eax, dword ptr [0x100]', {'eax': 0x1234}, ZF)
    g.add('pf_after_inc', 'inc ecx; mov byte ptr [0x100], cl', {'ecx': 0xff}, 0)
    g.add('pf_push', 'push %s' % A, {A: 7, g.SP: 0x1000}, 0)
    g.add('pf_mem_partial', 'mov eax, dword ptr [%s]' % hx(DATA + 0xffe), {}, 0,
          desc='mov eax, [0x05000ffe] (straddles end of data page)')
    g.add('pf_rep_stos', 'rep stosd', {g.DI: DATA + 0xff8, g.C: 4, A: 0x55}, 0,
          desc='rep stosd crossing end of data page (#PF after 2 stores)')
    g.add('ud2', 'ud2', {'eax': 1}, SF)
    g.add('ud2_after_mov', 'mov eax, 5; ud2', {}, 0)
    g.add('int3', 'int3', {'ecx': 3}, CF | DF)
    g.add('int3_after_add', 'add eax, 1; int3; mov eax, 9', {'eax': 0x7fffffff}, 0)
    g.add('int_81', 'int 0x81', {}, 0)
    g.add('hlt', 'hlt', {}, 0)
    g.add('cli', 'cli', {}, 0)
    g.add('sti', 'sti', {}, 0)
    g.add('mov_cr0', 'mov %s, cr0' % A, {}, 0)
    g.add('in_dx', 'in al, dx', {'edx': 0x60}, 0)
    g.add('out_imm', 'out 0x80, al', {}, 0)
    if m64:
        g.add('gp_noncanonical', 'mov rax, qword ptr [rcx]', {'rcx': 0x8000000000000000}, 0)
        g.add('ud_lock_add_reg', '.byte 0xf0, 0x01, 0xc8', {}, 0, desc='lock add eax, ecx (#UD)')
    else:
        g.add('ud_lock_add_reg', '.byte 0xf0, 0x01, 0xc8', {}, 0, desc='lock add eax, ecx (#UD)')
        g.add('into_no', 'into', {}, 0)
        g.add('into_of', 'into', {}, OF)
        g.add('bound_fail', 'bound eax, qword ptr [%s]' % hx(DATA), {'eax': 0x20}, 0,
              bytes([0, 0, 0, 0, 0x10, 0, 0, 0]))


def build(mode):
    g = Gen(mode)
    for fn in (g_alu, g_unary, g_muldiv, g_shifts, g_bits, g_mov, g_cond, g_convert, g_stack,
               g_string, g_faults):
        fn(g)
    return g


# ----------------------------------------------------------------------------
# assembling


def epilogue(mode):
    L = []
    if mode == 64:
        for i, r in enumerate(REGS64):
            L.append('mov qword ptr [%s], %s' % (hx(HARN + 0x100 + 8 * i), r))
        L += ['mov rsp, %s' % hx(HARN + 0x1000), 'pushfq', 'pop rax',
              'mov qword ptr [%s], rax' % hx(HARN + 0x180),
              'jmp qword ptr [%s]' % hx(HARN + 0x90)]
    else:
        for i, r in enumerate(REGS32):
            L.append('mov dword ptr [%s], %s' % (hx(HARN + 0x100 + 4 * i), r))
        L += ['mov esp, %s' % hx(HARN + 0x1000), 'pushfd', 'pop eax',
              'mov dword ptr [%s], eax' % hx(HARN + 0x120),
              'jmp dword ptr [%s]' % hx(HARN + 0x28)]
    return '\n'.join(L)


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, **kw)
    if r.returncode != 0:
        sys.stderr.write('command failed: %s\n%s%s' % (' '.join(cmd), r.stdout, r.stderr))
        sys.exit(1)
    return r.stdout


def assemble(g, tmp):
    lines = ['.intel_syntax noprefix', '.text']
    owner = {}
    for i, c in enumerate(g.cases):
        lines.append('c%d_s:' % i)
        owner[len(lines) + 1] = i
        lines.append(c.asm)
        lines.append('c%d_e:' % i)
    lines.append('ep_s:')
    lines.append(epilogue(g.mode))
    lines.append('ep_e:')
    src = os.path.join(tmp, 'cases%d.s' % g.mode)
    obj = os.path.join(tmp, 'cases%d.o' % g.mode)
    binf = os.path.join(tmp, 'cases%d.bin' % g.mode)
    with open(src, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    r = subprocess.run(['as', '--%d' % g.mode, '-o', obj, src], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    if r.returncode != 0 or r.stderr.strip():
        for ln in r.stderr.splitlines():
            m = re.search(r':(\d+): ', ln)
            who = ''
            if m and int(m.group(1)) in owner:
                who = ' [case %s]' % g.cases[owner[int(m.group(1))]].cid
            sys.stderr.write(ln + who + '\n')
        sys.exit(1)
    relocs = run(['objdump', '-r', obj])
    if re.search(r'^[0-9a-f]{8,16} ', relocs, re.M):
        sys.stderr.write('unexpected relocations in case code:\n' + relocs)
        sys.exit(1)
    run(['objcopy', '-O', 'binary', '-j', '.text', obj, binf])
    with open(binf, 'rb') as f:
        text = f.read()
    syms = {}
    for ln in run(['nm', obj]).splitlines():
        p = ln.split()
        if len(p) == 3:
            syms[p[2]] = int(p[0], 16)
    for i, c in enumerate(g.cases):
        c.code = text[syms['c%d_s' % i]:syms['c%d_e' % i]]
        assert c.code, c.cid
    return text[syms['ep_s']:syms['ep_e']]


# ----------------------------------------------------------------------------
# harness

HARNESS_C = r'''
#define _GNU_SOURCE
#include <signal.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#define DATA  0x05000000UL
#define STACK 0x05010000UL
#define CODE  0x05020000UL
#define HARN  0x05030000UL
#define NREG  @NREG@
typedef @REGT@ reg_t;

@TABLES@

extern void run_case(void);
extern char case_return[];
reg_t host_sp;

__asm__(
".intel_syntax noprefix\n"
".text\n"
".globl run_case\n"
"run_case:\n"
@RUNCASE@
".att_syntax prefix\n");

static sigjmp_buf jb;
static volatile int faulted;
static volatile reg_t f_regs[NREG], f_flags, f_ip, f_trapno, f_err, f_addr;
static volatile int cur;

static void handler(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = (ucontext_t *)ctx;
    static const int idx[NREG] = { @GREGIDX@ };
    int i;
    (void)sig;
    for (i = 0; i < NREG; i++)
        f_regs[i] = (reg_t)uc->uc_mcontext.gregs[idx[i]];
    f_flags = (reg_t)uc->uc_mcontext.gregs[REG_EFL];
    f_ip = (reg_t)uc->uc_mcontext.gregs[@REGIP@];
    f_trapno = (reg_t)uc->uc_mcontext.gregs[REG_TRAPNO];
    f_err = (reg_t)uc->uc_mcontext.gregs[REG_ERR];
    f_addr = (reg_t)(uintptr_t)si->si_addr;
    faulted = 1;
    siglongjmp(jb, 1);
}

static void map(unsigned long addr, int prot)
{
    void *p = mmap((void *)addr, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != (void *)addr) { perror("mmap"); exit(2); }
}

int main(void)
{
    static const int sigs[] = { SIGSEGV, SIGFPE, SIGILL, SIGBUS, SIGTRAP };
    stack_t ss;
    struct sigaction sa;
    unsigned i;
    int k;

    map(DATA, PROT_READ | PROT_WRITE);
    map(STACK, PROT_READ | PROT_WRITE);
    map(CODE, PROT_READ | PROT_WRITE | PROT_EXEC);
    map(HARN, PROT_READ | PROT_WRITE);

    ss.ss_sp = malloc(1 << 16);
    ss.ss_size = 1 << 16;
    ss.ss_flags = 0;
    if (sigaltstack(&ss, 0)) { perror("sigaltstack"); return 2; }
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (k = 0; k < 5; k++)
        if (sigaction(sigs[k], &sa, 0)) { perror("sigaction"); return 2; }

    for (cur = 0; cur < NCASES; cur++) {
        reg_t *in = (reg_t *)HARN, *out = (reg_t *)(HARN + 0x100);
        const reg_t *r;
        unsigned char *d = (unsigned char *)DATA;
        i = cur;
        memset((void *)DATA, 0, 4096);
        memset((void *)STACK, 0, 4096);
        memset((void *)CODE, 0xcc, 4096);
        memset((void *)HARN, 0, 4096);
        memcpy(d, mem_all + mem_idx[i][0], mem_idx[i][1]);
        memcpy((void *)CODE, code_all + code_idx[i][0], code_idx[i][1]);
        memcpy((void *)(CODE + code_idx[i][1]), epi, sizeof epi);
        r = init_regs[i];
        for (k = 0; k < NREG; k++) in[k] = r[k];
        in[NREG] = init_flags[i];
        in[NREG + 1] = (reg_t)CODE;
        in[NREG + 2] = (reg_t)(uintptr_t)case_return;
        faulted = 0;
        if (sigsetjmp(jb, 1) == 0)
            run_case();
        i = cur;
        printf("%u %d", i, faulted);
        if (faulted) {
            for (k = 0; k < NREG; k++) printf(" %llx", (unsigned long long)f_regs[k]);
            printf(" %llx %llx %llx %llx %llx", (unsigned long long)f_flags, (unsigned long long)f_trapno,
                   (unsigned long long)f_err, (unsigned long long)f_addr, (unsigned long long)f_ip);
        } else {
            for (k = 0; k < NREG; k++) printf(" %llx", (unsigned long long)out[k]);
            printf(" %llx", (unsigned long long)out[NREG]);
        }
        printf(" m");
        for (k = 0; k < (int)mem_idx[i][1]; k++) printf("%02x", d[k]);
        printf("\n");
    }
    return 0;
}
'''

RUNCASE64 = [
    'push rbx', 'push rbp', 'push r12', 'push r13', 'push r14', 'push r15',
    'mov qword ptr [rip+host_sp], rsp',
    'mov rsp, 0x05031000',
    'push qword ptr [0x05030080]',
    'popfq',
] + ['mov %s, qword ptr [%s]' % (r, hx(HARN + 8 * i)) for i, r in enumerate(REGS64) if r != 'rsp'] + [
    'mov rsp, qword ptr [0x05030038]',
    'jmp qword ptr [0x05030088]',
    '.globl case_return',
    'case_return:',
    'mov rsp, qword ptr [rip+host_sp]',
    'cld',
    'pop r15', 'pop r14', 'pop r13', 'pop r12', 'pop rbp', 'pop rbx',
    'ret',
]

RUNCASE32 = [
    'push ebx', 'push esi', 'push edi', 'push ebp',
    'mov dword ptr [host_sp], esp',
    'mov esp, 0x05031000',
    'push dword ptr [0x05030020]',
    'popfd',
] + ['mov %s, dword ptr [%s]' % (r, hx(HARN + 4 * i)) for i, r in enumerate(REGS32) if r != 'esp'] + [
    'mov esp, dword ptr [0x0503001c]',
    'jmp dword ptr [0x05030024]',
    '.globl case_return',
    'case_return:',
    'mov esp, dword ptr [host_sp]',
    'cld',
    'pop ebp', 'pop edi', 'pop esi', 'pop ebx',
    'ret',
]


def c_bytes(b):
    out = []
    for i in range(0, len(b), 24):
        out.append(','.join('%d' % x for x in b[i:i + 24]))
    return ',\n'.join(out) if out else '0'


def harness_source(g, epi):
    code_all = bytearray()
    code_idx = []
    mem_all = bytearray()
    mem_idx = []
    for c in g.cases:
        code_idx.append((len(code_all), len(c.code)))
        code_all += c.code
        m = c.mem or b''
        mem_idx.append((len(mem_all), len(m)))
        mem_all += m
    suf = 'ULL' if g.mode == 64 else 'U'
    t = []
    t.append('#define NCASES %d' % len(g.cases))
    t.append('static const unsigned char code_all[] = {\n%s};' % c_bytes(code_all))
    t.append('static const unsigned code_idx[][2] = {%s};' % ','.join('{%d,%d}' % x for x in code_idx))
    t.append('static const unsigned char mem_all[] = {\n%s};' % c_bytes(mem_all))
    t.append('static const unsigned mem_idx[][2] = {%s};' % ','.join('{%d,%d}' % x for x in mem_idx))
    t.append('static const reg_t init_regs[][NREG] = {\n%s};' % ',\n'.join(
        '{%s}' % ','.join('0x%x%s' % (v, suf) for v in c.regs) for c in g.cases))
    t.append('static const reg_t init_flags[] = {%s};' % ','.join('0x%x' % c.flags for c in g.cases))
    t.append('static const unsigned char epi[] = {%s};' % c_bytes(epi))
    if g.mode == 64:
        rc, nreg, regt = RUNCASE64, 16, 'uint64_t'
        gidx = ', '.join('REG_' + r.upper() for r in REGS64)
        regip = 'REG_RIP'
    else:
        rc, nreg, regt = RUNCASE32, 8, 'uint32_t'
        gidx = ', '.join('REG_' + (r.upper() if r != 'esp' else 'UESP') for r in REGS32)
        regip = 'REG_EIP'
    s = HARNESS_C
    s = s.replace('@NREG@', str(nreg)).replace('@REGT@', regt).replace('@TABLES@', '\n'.join(t))
    s = s.replace('@RUNCASE@', '\n'.join('"%s\\n"' % x for x in rc))
    s = s.replace('@GREGIDX@', gidx).replace('@REGIP@', regip)
    return s


# ----------------------------------------------------------------------------
# output


def fmt_line(g, c, res):
    mode = g.mode
    regmask = (1 << mode) - 1
    name = '%s: %s' % (c.cid, c.desc or c.asm)
    assert '|' not in name and not name.startswith('#')
    init = ['%s=%s' % (r, hx(v)) for r, v in zip(g.regs, c.regs) if r in c.set_regs]
    init.append('flags=%s' % hx(c.flags))
    if c.mem is not None:
        init.append('mem=%s' % c.mem.hex())
    exp = []
    if res['fault']:
        exp.append('fault=%d' % res['trapno'])
        exp.append('err=%s' % hx(res['err']))
        if res['trapno'] == 14:
            exp.append('addr=%s' % hx(res['addr'] & regmask))
        exp.append('rip=%s' % hx(res['ip'] & regmask))
    exp += ['%s=%s' % (r, hx(v & regmask)) for r, v in zip(g.regs, res['regs'])]
    exp.append('flags=%s' % hx(res['flags'] & ALL))
    if c.mem is not None:
        exp.append('mem=%s' % res['mem'])
    return '%s | %s | %s | %s | mask=%s' % (name, ' '.join('%02x' % b for b in c.code),
                                            ' '.join(init), ' '.join(exp), hx(c.mask))


def parse_results(g, text):
    nreg = len(g.regs)
    out = {}
    for ln in text.splitlines():
        p = ln.split()
        i, fl = int(p[0]), int(p[1])
        vals = [int(x, 16) for x in p[2:-1]]
        assert p[-1].startswith('m')
        r = {'fault': bool(fl), 'regs': vals[:nreg], 'flags': vals[nreg], 'mem': p[-1][1:]}
        if fl:
            r['trapno'], r['err'], r['addr'], r['ip'] = vals[nreg + 1:nreg + 5]
        out[i] = r
    assert len(out) == len(g.cases), (len(out), len(g.cases))
    return out


HEADER = '''# Native x86 instruction test vectors ({mode}-bit), generated by native/gen.py -- do not edit.
# Each case ran natively on: {cpu}
# Layout: data page 0x05000000 (mem= is its content from offset 0, rest zero), stack page 0x05010000,
# {sp}=0x05010800 unless given, code at 0x05020000 (execution runs to the end of the case bytes).
# Unlisted initial registers are 0.  Initial flags are loaded with POPF (IF=1 as in user mode).
# Expected flags are RFLAGS & 0xcd5; compare (actual & mask) with (expected & mask).
# Fault records: fault=<vector> err=<error code> [addr=<#PF address>] rip=<address of the faulting
# instruction; after the int3 byte for vector 3> followed by the registers of the signal context.
# Format: <id>: <asm> | <bytes> | <initial> | <expected> | mask=0x<defined flags>
'''


def validate(path, mode):
    """Re-parse a written vector file and check it against the documented format."""
    regs = REGS64 if mode == 64 else REGS32
    seen = set()
    n = 0
    with open(path) as f:
        for lineno, ln in enumerate(f, 1):
            ln = ln.rstrip('\n')
            if ln.startswith('#') or not ln.strip():
                continue
            where = '%s:%d' % (path, lineno)
            parts = [x.strip() for x in ln.split('|')]
            assert len(parts) == 5, where
            name, code, init, exp, mask = parts
            cid = name.split(':', 1)[0]
            assert re.fullmatch(r'[a-z0-9_]+', cid) and ': ' in name, where
            assert cid not in seen, 'duplicate id ' + cid
            seen.add(cid)
            assert re.fullmatch(r'[0-9a-f]{2}( [0-9a-f]{2})*', code), where
            m = re.fullmatch(r'mask=0x([0-9a-f]+)', mask)
            assert m and int(m.group(1), 16) & ~ALL == 0 and int(m.group(1), 16) & DF, where

            def kv(field):
                d = {}
                for tok in field.split():
                    k, v = tok.split('=', 1)
                    assert k not in d, where
                    d[k] = v
                return d
            i, e = kv(init), kv(exp)
            for k, v in i.items():
                assert k in regs or k in ('flags', 'mem'), where
                if k != 'mem':
                    assert re.fullmatch(r'0x[0-9a-f]+', v) and int(v, 16) < (1 << mode), where
            assert 'flags' in i and (int(i['flags'], 16) & ~ALL) == 2, where
            for r in regs:
                assert r in e and re.fullmatch(r'0x[0-9a-f]+', e[r]) and int(e[r], 16) < (1 << mode), where
            assert int(e['flags'], 16) & ~ALL == 0, where
            extra = set(e) - set(regs) - {'flags', 'mem'}
            if 'fault' in e:
                want = {'fault', 'err', 'rip'} | ({'addr'} if e['fault'] == '14' else set())
                assert extra == want and re.fullmatch(r'[0-9]+', e['fault']), where
            else:
                assert not extra, where
            assert ('mem' in i) == ('mem' in e), where
            if 'mem' in i:
                assert len(i['mem']) == len(e['mem']) and re.fullmatch(r'([0-9a-f]{2})+', e['mem']), where
            n += 1
    return n


def cpu_name():
    try:
        with open('/proc/cpuinfo') as f:
            info = f.read()
        vendor = re.search(r'^vendor_id\s*:\s*(.*)$', info, re.M).group(1)
        model = re.search(r'^model name\s*:\s*(.*)$', info, re.M).group(1)
        fam = re.search(r'^cpu family\s*:\s*(.*)$', info, re.M).group(1)
        mod = re.search(r'^model\s*:\s*(.*)$', info, re.M).group(1)
        return '%s, %s (family %s model %s)' % (model.strip(), vendor.strip(), fam, mod)
    except Exception:
        return 'unknown'


def main():
    keep = None
    if len(sys.argv) > 2 and sys.argv[1] == '--keep':
        keep = sys.argv[2]
        os.makedirs(keep, exist_ok=True)
    cpu = cpu_name()
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = keep or tmpd
        for mode in (64, 32):
            g = build(mode)
            ids = [c.cid for c in g.cases]
            assert len(ids) == len(set(ids))
            epi = assemble(g, tmp)
            csrc = os.path.join(tmp, 'harness%d.c' % mode)
            exe = os.path.join(tmp, 'harness%d' % mode)
            with open(csrc, 'w') as f:
                f.write(harness_source(g, epi))
            run(['gcc', '-m%d' % mode, '-O1', '-no-pie', '-o', exe, csrc])
            res = parse_results(g, run([exe]))
            lines = [HEADER.format(mode=mode, cpu=cpu, sp='RSP' if mode == 64 else 'ESP')]
            for i, c in enumerate(g.cases):
                lines.append(fmt_line(g, c, res[i]) + '\n')
            path = os.path.join(OUTDIR, 'native-%d.txt' % mode)
            with open(path, 'w') as f:
                f.write(''.join(lines))
            assert validate(path, mode) == len(g.cases)
            nf = sum(1 for i in res if res[i]['fault'])
            print('%s: %d cases (%d faulting)' % (os.path.relpath(path), len(g.cases), nf))


if __name__ == '__main__':
    main()
