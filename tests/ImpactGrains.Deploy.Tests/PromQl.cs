using System.Text;

namespace ImpactGrains.Deploy.Tests;

/// <summary>A metric selector in a PromQL expression: the metric's name and its label matchers.</summary>
public sealed record MetricSelector(string Metric, IReadOnlyList<(string Label, string Operator, string Value)> Matchers);

/// <summary>
/// Reads the metric selectors and grouping labels out of PromQL (and Grafana's variables in it): enough of the
/// language to tell metric names from functions, aggregations, keywords, labels, strings, numbers and durations.
/// </summary>
public static class PromQl
{
    private static readonly HashSet<string> Aggregations =
    [
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio",
    ];

    private static readonly HashSet<string> GroupingKeywords = ["by", "without", "on", "ignoring", "group_left", "group_right"];

    private static readonly HashSet<string> Keywords = ["and", "or", "unless", "bool", "offset", "inf", "nan", "atan2", "start", "end"];

    /// <summary>Every metric selector in the expression, in order.</summary>
    public static IReadOnlyList<MetricSelector> Selectors(string expression) => Parse(expression).Selectors;

    /// <summary>The labels named in by, without, on, ignoring, group_left and group_right clauses.</summary>
    public static IReadOnlyList<string> GroupingLabels(string expression) => Parse(expression).Grouping;

    private static (List<MetricSelector> Selectors, List<string> Grouping) Parse(string expression)
    {
        // Grafana's variables ($__rate_interval, ${datasource}, $namespace) stand for durations and label values.
        var text = System.Text.RegularExpressions.Regex.Replace(expression, @"\$\{?\w+\}?", "");
        var selectors = new List<MetricSelector>();
        var grouping = new List<string>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c is '"' or '\'' or '`')
            {
                i = SkipString(text, i);
            }
            else if (c == '[')
            {
                i = text.IndexOf(']', i) is var end and >= 0 ? end + 1 : text.Length;
            }
            else if (c == '#')
            {
                i = text.IndexOf('\n', i) is var end and >= 0 ? end + 1 : text.Length;
            }
            else if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1])))
            {
                // a number or a duration (0.99, 15m, 1h30m)
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '.' or '_'))
                {
                    i++;
                }
            }
            else if (char.IsAsciiLetter(c) || c is '_' or ':')
            {
                var start = i;
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '_' or ':'))
                {
                    i++;
                }

                var word = text[start..i];
                var next = SkipSpace(text, i);
                if (GroupingKeywords.Contains(word) && next < text.Length && text[next] == '(')
                {
                    var close = text.IndexOf(')', next);
                    grouping.AddRange(text[(next + 1)..close].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    i = close + 1;
                }
                else if (Aggregations.Contains(word) || Keywords.Contains(word) || GroupingKeywords.Contains(word) || (next < text.Length && text[next] == '('))
                {
                    // a function, an aggregation or a keyword
                }
                else
                {
                    var matchers = new List<(string, string, string)>();
                    if (next < text.Length && text[next] == '{')
                    {
                        i = ReadMatchers(text, next + 1, matchers);
                    }

                    selectors.Add(new MetricSelector(word, matchers));
                }
            }
            else
            {
                i++;
            }
        }

        return (selectors, grouping);
    }

    private static int ReadMatchers(string text, int i, List<(string, string, string)> matchers)
    {
        while (true)
        {
            i = SkipSpace(text, i);
            if (i >= text.Length || text[i] == '}')
            {
                return i + 1;
            }

            if (text[i] == ',')
            {
                i++;
                continue;
            }

            var start = i;
            while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
            {
                i++;
            }

            var label = text[start..i];
            i = SkipSpace(text, i);
            var op = text[i..].StartsWith("=~", StringComparison.Ordinal) || text[i..].StartsWith("!~", StringComparison.Ordinal) || text[i..].StartsWith("!=", StringComparison.Ordinal)
                ? text.Substring(i, 2)
                : "=";
            i = SkipSpace(text, i + op.Length);
            var end = SkipString(text, i);
            matchers.Add((label, op, Unquote(text[(i + 1)..(end - 1)])));
            i = end;
        }
    }

    private static int SkipSpace(string text, int i)
    {
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++;
        }

        return i;
    }

    private static int SkipString(string text, int i)
    {
        var quote = text[i++];
        while (i < text.Length && text[i] != quote)
        {
            i += text[i] == '\\' && quote != '`' ? 2 : 1;
        }

        return i + 1;
    }

    private static string Unquote(string text)
    {
        var result = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length)
            {
                i++;
            }

            result.Append(text[i]);
        }

        return result.ToString();
    }
}
