"""Word lists for realistic generated people and companies (including non-ASCII names)."""

FIRST_NAMES = """
James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard
Susan Joseph Jessica Thomas Sarah Christopher Karen Charles Lisa Daniel Nancy Matthew Betty
Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua
Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy Stephanie Ronald
Rebecca Jason Laura Edward Helen Jeffrey Sharon Ryan Cynthia Jacob Kathleen Gary Amy Nicholas
Angela Eric Shirley Jonathan Anna Stephen Brenda Larry Pamela Justin Emma Scott Nicole Brandon
Samantha Benjamin Katherine Samuel Christine Gregory Debra Alexander Rachel Patrick Carolyn
Frank Janet Raymond Maria Jack Olivia Dennis Heather Jerry Diane Tyler Julie Aaron Joyce Priya
Arjun Wei Mei Hiroshi Yuki Fatima Omar Aisha Mohammed Chen Ling Raj Ananya Sven Ingrid Lars
Astrid Pierre Camille Luca Giulia Mateo Valentina Noah Mia Liam Zoe Ethan Chloe Lucas Hannah
""".split()

FIRST_NAMES_UNICODE = """
José Zoë Łukasz Søren Björn Renée Chloé François Jürgen Müge Ñuño Ángela Élodie Øyvind Dóra
Jiří Małgorzata Ştefan Nguyễn Thảo Đức Yǔtóng Αλέξανδρος Мария Дмитрий 美咲 翔太 지민 Ayşe İlker
""".split()

LAST_NAMES = """
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips
Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers
Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson
Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders
Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler
Henderson Barnes Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham
Reynolds Griffin Wallace West Cole Hayes Bryant Gibson Ellis Stevens Murray Ford Marshall Owens
McDonald Harrison Ruiz Kennedy Wells Alvarez Woods Mendoza Castro Olson Webb Tanaka Sato Suzuki
Yamamoto Wang Li Zhang Liu Chen Singh Kumar Sharma Gupta Khan Ali Hansen Johansson Larsen
Dubois Moreau Rossi Russo Ferrari Schmidt Schneider Fischer Weber Novak Kowalski Horvat
""".split()

LAST_NAMES_UNICODE = """
Müller Jørgensen Ólafsson Gómez Pérez Núñez Dvořák Wiśniewski Çelik Öztürk Ångström Sørensen
Lefèvre Bäcker Székely Đorđević Nguyễn Trần Łącki Kovačević Иванов Παπαδόπουλος 佐藤 김
""".split()

COMPANY_WORDS_A = """
Acme Blue Red Green Silver Golden North South East West Bright Clear Swift Quantum Atlas
Summit Pioneer Harbor River Lake Mountain Cedar Oak Pine Maple Granite Iron Copper Crystal
Stellar Lunar Solar Nova Vertex Apex Prime Core Alpha Beta Delta Sigma Omega Vector Matrix
Nimbus Cirrus Aurora Zenith Horizon Evergreen Redwood Falcon Eagle Hawk Orbit Fusion Pulse
Beacon Anchor Compass Keystone Bridge Harvest Meadow Canyon Prairie Coral Tidal Polar Arctic
""".split()

COMPANY_WORDS_B = """
Logistics Analytics Systems Software Labs Dynamics Networks Solutions Partners Ventures
Health Energy Foods Media Robotics Capital Consulting Security Cloud Data Devices Materials
Pharma Bio Works Motors Freight Retail Studios Payments Insurance Realty Telecom Learning
""".split()

COMPANY_SUFFIXES = ["", "", "", " Inc", " LLC", " Group", " GmbH", " Ltd", " Co", " AG", " SA"]

TLDS = ["com", "com", "com", "io", "co", "net", "de", "co.uk", "fr", "ai"]

FREE_DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com"]

ROLE_LOCALS = ["info", "sales", "contact", "hello", "support", "office"]

STAGES = [
    ("Cold", "in_progress"), ("Approaching", "in_progress"), ("Replied", "in_progress"),
    ("Interested", "succeeded"), ("Not Interested", "failed"), ("Unresponsive", "failed"),
    ("Do Not Contact", "failed"), ("Bad Data", "failed"), ("Changed Job", "failed"),
]

# Contact lists (Apollo "labels") of a workspace, with how often each is picked: uneven, as
# a few big lists (newsletter, a region) and many small campaign lists are in real teams.
LISTS = [
    ("Newsletter subscribers", 22), ("North America Mid-Market", 16), ("EMEA Enterprise", 14),
    ("Free trial sign-ups", 12), ("Q3 Webinar", 9), ("Re-engagement 2025", 8),
    ("Product-qualified leads", 7), ("Q1 Webinar", 7), ("Trade show 2026", 6),
    ("Outbound - CTOs", 6), ("APAC Expansion", 5), ("Outbound - CFOs", 5),
    ("Competitor users", 5), ("DACH Prospects", 5), ("Partner referrals", 4),
    ("Inbound demo requests", 4), ("Top 500 accounts", 4), ("Churned customers", 3),
    ("SaaStr Annual 2025", 3), ("Lost opportunities", 3), ("Customer advocates", 2),
    ("Hiring managers", 2), ("Podcast guests", 1), ("Board introductions", 1),
]
