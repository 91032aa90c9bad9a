using System.Globalization;

namespace SyscallTools.Fuzz;

/// <summary>
/// The fuzz driver: <c>SyscallTools.Fuzz [--seed S] [--count N | --minutes M] [--fuzzer NAME[,NAME]] [--index I]</c>.
/// Prints the seed first, a failing input's reproducer as it is found, and the counts at the end; exits 1 when any
/// oracle failed, 2 on bad arguments, 3 when an input hangs so hard that even the watchdog has to end the process.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        FuzzOptions options;
        try { options = Parse(args); }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine("usage: SyscallTools.Fuzz [--seed S] [--count N | --minutes M] [--fuzzer " +
                                    string.Join('|', FuzzRunner.All.Select(f => f.Name)) + "] [--index I] [--stop-on-failure]");
            return 2;
        }
        string mode = options.Index is long ix ? $"replaying input {ix}" : options.Minutes > 0 ? $"for {options.Minutes} minute(s)" : $"{options.Count} inputs per fuzzer";
        Console.WriteLine($"fuzz seed {options.Seed} ({mode}; fuzzers: {string.Join(", ", options.Only ?? FuzzRunner.All.Select(f => f.Name).ToList())})");
        Console.Out.Flush();

        // The runs poll a cancellation token, so a slow input is reported as a hang; an input stuck where nothing polls
        // (a loop in C#) cannot be, so a watchdog ends the process with what it knows.
        var watchdog = new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(1000);
                if (FuzzRunner.InFlight is not { } f || f.Clock.Elapsed < 2 * options.HangAfter) continue;
                Console.WriteLine($"watchdog: input {f.Index} of {f.Fuzzer} has run for {f.Clock.Elapsed.TotalSeconds:F0} s without reaching " +
                                  "a budget or cancellation check: a hang outside the emulator's run loop.");
                Console.WriteLine($"    reproduce: build.ps1 -Task Fuzz -Seed {options.Seed} -Fuzzer {f.Fuzzer} -Index {f.Index}");
                Console.Out.Flush();
                Environment.Exit(3);
            }
        }) { IsBackground = true };
        watchdog.Start();

        var report = FuzzRunner.Run(options, Console.Out);
        Console.WriteLine(report.Summary());
        foreach (var f in report.Failures.Take(20)) Console.WriteLine(f);
        return report.Passed ? 0 : 1;
    }

    private static FuzzOptions Parse(string[] args)
    {
        var o = new FuzzOptions { Seed = (ulong)Environment.TickCount64 };
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i].ToLowerInvariant())
            {
                case "--seed": o = o with { Seed = ulong.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--count": o = o with { Count = long.Parse(Next(), CultureInfo.InvariantCulture), Minutes = 0 }; break;
                case "--minutes": o = o with { Minutes = double.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--fuzzer": o = o with { Only = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) }; break;
                case "--index": o = o with { Index = long.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--stop-on-failure": o = o with { StopOnFailure = true }; break;
                default: throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }
        if (o.Only is { } only)
            foreach (var n in only)
                if (!FuzzRunner.All.Any(f => f.Name.Equals(n, StringComparison.OrdinalIgnoreCase)))
                    throw new ArgumentException($"No fuzzer is called '{n}'.");
        return o;
    }
}
