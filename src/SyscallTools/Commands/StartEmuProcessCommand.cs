using System.Collections;
using System.Management.Automation;
using System.Text;
using SyscallTools.Core.Linux.Exec;
using SyscallTools.Core.Linux.Files;
using SyscallTools.Errors;

namespace SyscallTools.Commands;

/// <summary>
/// Runs a static Linux program (ELF32 i386 or ELF64 x86-64, non-PIE or static-PIE) in the emulated task: exec loads
/// it as the kernel does, and every system call it makes goes through the modelled entry and exit paths. The result
/// has its exit status or fatal signal, what it wrote, every system call with its entry and exit instruction, the
/// instruction counts, and what the model lacked. The program file is read from the host; nothing the program does
/// reaches the host (its files are the virtual ones given with -File).
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "EmuProcess", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ProcessRunResult))]
public sealed class StartEmuProcessCommand : PSCmdlet
{
    /// <summary>The machine whose task runs the program (New-EmuCpu; -Bitness must match the program's class).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public EmuCpu Cpu { get; set; } = null!;

    /// <summary>The program file on the host.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = null!;

    /// <summary>argv[1..]; argv[0] is the program's virtual path.</summary>
    [Parameter(Position = 1)]
    public string[] ArgumentList { get; set; } = [];

    /// <summary>The environment, as NAME = value pairs (passed in name order, so runs are repeatable).</summary>
    [Parameter]
    public IDictionary? Environment { get; set; }

    /// <summary>What the program reads from fd 0: a string (UTF-8) or bytes. Empty by default (read returns 0, EOF).</summary>
    [Parameter]
    public object? StandardInput { get; set; }

    /// <summary>Files of the virtual file system: absolute path = string or byte[] contents.</summary>
    [Parameter]
    public IDictionary? File { get; set; }

    /// <summary>Make stdout and stderr a terminal (isatty is true; stdio line-buffers) instead of pipes.</summary>
    [Parameter]
    public SwitchParameter Tty { get; set; }

    /// <summary>Instruction budget for the whole run (user and kernel).</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long MaxInstructions { get; set; } = 200_000_000;

    /// <summary>The largest program file read.</summary>
    private const long MaxProgramBytes = 256L << 20;

    protected override void ProcessRecord()
    {
        var m = Cpu.Machine;
        if (m.Task.Exited) { WriteError(InvokeSyscallCommand.TaskExitedError(Cpu)); return; }
        if (ReadProgram() is not (string full, byte[] image)) return;
        if (!TryVirtualFiles(out var files) || !TryInput(out var input)) return;

        string virtualPath = "/" + System.IO.Path.GetFileName(full);
        var env = Environment is null ? [] : Environment.Keys.Cast<object>().Select(k => k.ToString()!).Order(StringComparer.Ordinal)
            .Select(k => $"{k}={Environment[k]}").ToArray();
        var request = new ExecRequest { Image = image, Path = virtualPath, Argv = [virtualPath, .. ArgumentList], Envp = env };
        if (!ShouldProcess(Cpu.ToString(), $"Run '{full}' as {virtualPath}")) return;

        // exec checks the image before it changes anything, so a refused program leaves the machine as it was.
        try { m.Exec(request); }
        catch (ExecFormatException e)
        {
            var (id, category) = e.Refusal switch
            {
                ExecRefusal.Dynamic => (ErrorIds.DynamicProgram, ErrorCategory.InvalidData),
                ExecRefusal.WrongBitness or ExecRefusal.ArgumentsTooLong => (ErrorIds.InvalidCombination, ErrorCategory.InvalidArgument),
                _ => (ErrorIds.InvalidProgram, ErrorCategory.InvalidData),
            };
            WriteError(Errors.Errors.Record(id, category, Path, $"'{full}' cannot run: {e.Message}", e));
            return;
        }
        foreach (var (path, bytes) in files) m.Task.FileSystem.Add(path, bytes);
        m.Task.Files[0] = new Core.Linux.InputFile(input);
        m.Task.Files[1] = new Core.Linux.CaptureFile { IsTty = Tty };
        m.Task.Files[2] = new Core.Linux.CaptureFile { IsTty = Tty };
        var result = m.RunProcess(MaxInstructions, _cancel.Token);
        InvokeSyscallCommand.WriteTracerErrors(Cpu, this);
        if (result.NotModelledInstruction is string nm)
            WriteWarning($"The program stopped on an instruction the CPU model lacks: {nm}.");
        if (!result.Exited && result.Blocked is null && result.Oops is null)
            WriteWarning($"The program did not finish: {result.Outcome}. Raise -MaxInstructions to let it run longer.");
        WriteObject(result);
    }

    /// <summary>Reads the program file: the user's file, size-checked before it is parsed.</summary>
    private (string, byte[])? ReadProgram() => HostFileReader.TryRead(this, Path, new HostFileRules(
        ErrorIds.ProgramNotFound, ErrorCategory.ObjectNotFound,
        full => $"'{full}' is a directory. Give the path of a static ELF program (built with gcc -static).",
        ErrorIds.ProgramNotFound,
        MaxProgramBytes, ErrorIds.InvalidProgram,
        (full, length) => $"'{full}' is {length} bytes; the model runs programs up to {MaxProgramBytes >> 20} MiB.",
        ErrorIds.ProgramNotFound));

    private bool TryVirtualFiles(out List<(string, byte[])> files)
    {
        files = new();
        if (File is null) return true;
        foreach (DictionaryEntry kv in File)
        {
            string path = kv.Key?.ToString() ?? "";
            byte[]? bytes = Bytes(kv.Value);
            string? normal = path.StartsWith('/') ? VirtualFileSystem.Normalize(path) : null;
            if (normal is null || normal == "/" || bytes is null)
            {
                WriteError(Errors.Errors.Record(ErrorIds.InvalidVirtualFile, ErrorCategory.InvalidArgument, kv.Key,
                    $"-File '{path}': give an absolute path (e.g. '/etc/input.txt') and a string or byte[] as its contents."));
                return false;
            }
            files.Add((normal, bytes));
        }
        return true;
    }

    private bool TryInput(out byte[] input)
    {
        input = [];
        if (StandardInput is null) return true;
        if (Bytes(StandardInput) is byte[] b) { input = b; return true; }
        WriteError(Errors.Errors.Record(ErrorIds.InvalidCombination, ErrorCategory.InvalidArgument, StandardInput,
            "-StandardInput takes a string (sent as UTF-8) or a byte[]."));
        return false;
    }

    private static byte[]? Bytes(object? value) => (value is PSObject p ? p.BaseObject : value) switch
    {
        string s => Encoding.UTF8.GetBytes(s),
        byte[] b => b,
        object[] a when a.All(x => (x is PSObject q ? q.BaseObject : x) is byte) => a.Select(x => (byte)(x is PSObject q ? q.BaseObject : x)).ToArray(),
        _ => null,
    };

    // Ctrl+C: the emulator polls the token between blocks, so even a long run stops promptly.
    private readonly CancellationTokenSource _cancel = new();

    protected override void StopProcessing() => _cancel.Cancel();
}
