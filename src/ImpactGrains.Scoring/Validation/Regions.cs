using System.Collections.Frozen;

namespace ImpactGrains.Scoring.Validation;

/// <summary>ISO 3166-1 alpha-2 codes that are officially assigned, plus GLOBAL.</summary>
public static class Regions
{
    private static readonly FrozenSet<string> Codes = (
        "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
        "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
        "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
        "KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT " +
        "MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
        "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG " +
        "UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW")
        .Split(' ', StringSplitOptions.RemoveEmptyEntries)
        .Append(Events.ImpactEvent.GlobalRegion)
        .ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Every region taken, in upper case and in order (the API takes them in any case).</summary>
    public static IReadOnlyList<string> All { get; } = Codes.Order(StringComparer.Ordinal).ToList();

    // The two-letter codes by their letters (A–Z each), for reading a code straight from UTF-8 without a string.
    private static readonly string?[] ByLetters = BuildByLetters();

    private static string?[] BuildByLetters()
    {
        var table = new string?[26 * 26];
        foreach (var code in Codes.Where(c => c.Length == 2))
        {
            table[(code[0] - 'A') * 26 + (code[1] - 'A')] = code;
        }

        return table;
    }

    /// <summary>
    /// <see cref="TryNormalize"/> for ASCII text, without allocating: the same answer for every ASCII input (a caller
    /// with other text uses <see cref="TryNormalize"/>, whose upper-casing is Unicode's).
    /// </summary>
    public static bool TryNormalizeAscii(ReadOnlySpan<byte> value, out string region)
    {
        region = "";
        if (value.Length == 2)
        {
            int first = value[0] | 0x20, second = value[1] | 0x20; // lower-cased if a letter
            if (first is >= 'a' and <= 'z' && second is >= 'a' and <= 'z' && ByLetters[(first - 'a') * 26 + (second - 'a')] is { } code)
            {
                region = code;
                return true;
            }

            return false;
        }

        if (value.Length == 6 && System.Text.Ascii.EqualsIgnoreCase(value, "GLOBAL"u8))
        {
            region = Events.ImpactEvent.GlobalRegion;
            return true;
        }

        return false;
    }

    /// <summary>
    /// Every region in any case, as an ECMA-262 pattern that takes exactly what <see cref="TryNormalize"/> takes: per
    /// code, each letter as a class of its two cases, the two-letter codes grouped by their first letter.
    /// </summary>
    public static string CaseInsensitivePattern { get; } = BuildPattern();

    private static string BuildPattern()
    {
        static string Letter(char c) => $"[{c}{char.ToLowerInvariant(c)}]";
        var pairs = Codes.Where(c => c.Length == 2).GroupBy(c => c[0]).OrderBy(g => g.Key)
            .Select(g => Letter(g.Key) + "[" + string.Concat(g.Select(c => c[1]).Order().Select(c => $"{c}{char.ToLowerInvariant(c)}")) + "]");
        var words = Codes.Where(c => c.Length != 2).Order(StringComparer.Ordinal).Select(c => string.Concat(c.Select(Letter)));
        return "^(?:" + string.Join("|", pairs.Concat(words)) + ")$";
    }

    /// <summary>
    /// Normalises a region to upper case and checks it is assigned. ASCII only: Unicode upper-casing would turn
    /// letters such as U+0131 (dotless i) into ASCII ones and take "ıt" for IT.
    /// </summary>
    public static bool TryNormalize(string value, out string region)
    {
        if (!System.Text.Ascii.IsValid(value))
        {
            region = value;
            return false;
        }

        region = value.ToUpperInvariant();
        if (Codes.TryGetValue(region, out var interned))
        {
            // Interned so that millions of events share a handful of strings.
            region = interned;
            return true;
        }

        return false;
    }
}
