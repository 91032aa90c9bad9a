/*
 * tiny64.S: a small x86-64 shared object shaped like a 64-bit vDSO, for ElfReader tests.
 * Built with binutils (see README.md in this folder); the binary tiny64.so is committed next to it.
 */
	.text
	.globl	__vdso_getpid
	.type	__vdso_getpid, @function
__vdso_getpid:
	movl	$39, %eax		/* __NR_getpid */
	syscall
	ret
	.size	__vdso_getpid, .-__vdso_getpid

	.globl	__vdso_time
	.type	__vdso_time, @function
__vdso_time:
	movl	$201, %eax		/* __NR_time */
	syscall
	ret
	.size	__vdso_time, .-__vdso_time

	.weak	time
	.set	time, __vdso_time

	.data
	.globl	tiny_counter
	.type	tiny_counter, @object
	.size	tiny_counter, 8
tiny_counter:
	.quad	42

	.bss
	.globl	tiny_buffer
	.type	tiny_buffer, @object
	.size	tiny_buffer, 128
tiny_buffer:
	.zero	128
