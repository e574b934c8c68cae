// Tokenizer for master-file text (RFC 1035 §5.1): entries are lines, except that parentheses continue an
// entry over several lines; ';' starts a comment; a line starting with blank space has no owner (the previous
// owner applies); "..." groups text with spaces; backslash escapes (\X, \DDD) are kept in the token text and
// decoded by whoever interprets the token, because names must tell an escaped '.' from a label separator.

namespace Pkarr.Dns;

public static partial class ZoneFile
{
    /// <summary>One token: its text with quotes removed and escapes still in place.</summary>
    internal readonly record struct Token(string Text, bool Quoted, int Line);

    /// <summary>One entry (logical line).</summary>
    internal sealed record Entry(int Line, bool HasOwner, List<Token> Tokens);

    internal static bool TryTokenize(string text, out List<Entry> entries, out ZoneFileError error)
    {
        entries = [];
        error = default;
        Entry? current = null;
        int depth = 0;
        int line = 1;
        int i = 0;
        while (i < text.Length)
        {
            if ((i == 0 || text[i - 1] == '\n') && depth == 0)
            {
                if (current is { Tokens.Count: > 0 })
                {
                    entries.Add(current);
                }

                current = new Entry(line, text[i] is not (' ' or '\t'), []);
            }

            char c = text[i];
            switch (c)
            {
                case '\n':
                    line++;
                    i++;
                    continue;
                case ' ' or '\t' or '\r':
                    i++;
                    continue;
                case ';':
                    while (i < text.Length && text[i] != '\n')
                    {
                        i++;
                    }

                    continue;
                case '(':
                    depth++;
                    i++;
                    continue;
                case ')':
                    if (depth == 0)
                    {
                        error = Failure(ZoneFileErrorKind.Syntax, line, "unbalanced ')'");
                        return false;
                    }

                    depth--;
                    i++;
                    continue;
            }

            if (!TryReadToken(text, ref i, ref line, out var token, out error))
            {
                return false;
            }

            current!.Tokens.Add(token);
        }

        if (depth != 0)
        {
            error = Failure(ZoneFileErrorKind.Syntax, line, "unbalanced '(' (a record opened with '(' is never closed)");
            return false;
        }

        if (current is { Tokens.Count: > 0 })
        {
            entries.Add(current);
        }

        return true;
    }

    private static bool TryReadToken(string text, ref int i, ref int line, out Token token, out ZoneFileError error)
    {
        error = default;
        int startLine = line;
        bool quoted = text[i] == '"';
        bool inQuotes = false;
        var builder = new System.Text.StringBuilder();
        while (i < text.Length)
        {
            char c = text[i];
            if (c == '"')
            {
                inQuotes = !inQuotes;
                i++;
                continue;
            }

            if (c == '\\')
            {
                if (i + 1 >= text.Length)
                {
                    token = default;
                    error = Failure(ZoneFileErrorKind.Syntax, line, "backslash at the end of the text");
                    return false;
                }

                builder.Append(c).Append(text[i + 1]);
                i += 2;
                continue;
            }

            if (!inQuotes && c is ' ' or '\t' or '\r' or '\n' or ';' or '(' or ')')
            {
                break;
            }

            if (c == '\n')
            {
                line++;
            }

            builder.Append(c);
            i++;
        }

        token = new Token(builder.ToString(), quoted, startLine);
        if (inQuotes)
        {
            error = Failure(ZoneFileErrorKind.Syntax, startLine, "unterminated quoted string");
            return false;
        }

        return true;
    }

    private static ZoneFileError Failure(ZoneFileErrorKind kind, int line, string detail) => new(kind, line, detail);
}
