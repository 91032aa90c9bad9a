/* Writes this process's [vdso] (a 32-bit program, so the 32-bit vDSO) to the file named by argv[1].
   The image is found through AT_SYSINFO_EHDR; its size is the end of the highest PT_LOAD. */
#include <elf.h>
#include <stdio.h>
#include <sys/auxv.h>

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: %s out-file\n", argv[0]); return 2; }
    const unsigned char *base = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
    if (!base) { fprintf(stderr, "no AT_SYSINFO_EHDR\n"); return 1; }
    const Elf32_Ehdr *eh = (const Elf32_Ehdr *)base;
    const Elf32_Phdr *ph = (const Elf32_Phdr *)(base + eh->e_phoff);
    unsigned long size = 0;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_offset + ph[i].p_filesz > size)
            size = ph[i].p_offset + ph[i].p_filesz;
    /* The section headers are in the image too (vdso2c keeps them); make sure they are covered. */
    unsigned long shend = eh->e_shoff + (unsigned long)eh->e_shnum * eh->e_shentsize;
    if (shend > size) size = shend;
    FILE *f = fopen(argv[1], "wb");
    if (!f || fwrite(base, 1, size, f) != size || fclose(f) != 0) { perror(argv[1]); return 1; }
    printf("AT_SYSINFO=0x%lx AT_SYSINFO_EHDR=%p size=%lu\n", getauxval(AT_SYSINFO), (void *)base, size);
    return 0;
}
