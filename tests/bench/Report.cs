using System.Globalization;
using System.Text.Json;

namespace SyscallTools.Bench;

/// <summary>
/// One machine-readable line per figure: BENCH_JSON {"workload":…,"metric":…,"value":…,"peer":…,"peer_value":…,"ratio":…}.
/// The ratio is ours ÷ peer for rates and peer ÷ ours for times, so that above 1 always means we are ahead.
/// </summary>
public static class Report
{
    public static void Json(string workload, string metric, double value, string? peer = null, double? peerValue = null)
    {
        double? ratio = peerValue is double p && p > 0 && value > 0
            ? (metric.EndsWith("_per_second", StringComparison.Ordinal) ? value / p : p / value)
            : null;
        var o = new Dictionary<string, object?>
        {
            ["workload"] = workload, ["metric"] = metric, ["value"] = Math.Round(value, 3),
            ["peer"] = peer, ["peer_value"] = peerValue is double pv ? Math.Round(pv, 3) : null,
            ["ratio"] = ratio is double r ? Math.Round(r, 4) : null,
        };
        Console.WriteLine("BENCH_JSON " + JsonSerializer.Serialize(o));
    }

    public static string F(double v, string format = "F1") => v.ToString(format, CultureInfo.InvariantCulture);
}
