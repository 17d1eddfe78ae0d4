/* SPDX-License-Identifier: ISC */
/*
 * test_redact.c -- the secret redactor (supervisor/redact.c): upstream's
 * 13 patterns with their worked examples and pinned inputs (§5.3, §9),
 * our additions (bare sk-proj keys, whole PEM blocks, injected values),
 * the "bearer of bad news" false positive, near misses, the line
 * assembler, and hostile input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "logger/redact.h"
#include "unit.h"

struct vec {
	const char	*in;
	size_t		 inlen;
	const char	*out;
	size_t		 outlen;
};

/* What the line assembler emitted. */
struct sink {
	char	*buf;		/* lines joined by '\n' (cut: '|') */
	size_t	 len;
	size_t	 nlines;
	size_t	 ncut;
	size_t	 maxlen;	/* longest piece */
};

static char	*red(struct redactor *, const char *, size_t, size_t *, int *);
static void	 check(const char *, const char *);
static void	 check_lines(struct redactor *, const char *const *,
		    const char *const *);
static void	 pem_runs_out(struct redactor *, const char *);
static void	 check_vec(const struct vec *, size_t);
static size_t	 count(const char *, size_t, const char *);
static void	 sink_emit(void *, const char *, size_t, int);
static void	 sink_free(struct sink *);
static int	 contains(const char *, size_t, const char *, size_t);

/*
 * Expected outputs computed independently: the 13 patterns as regular
 * expressions (Python re with Rust's \s, leftmost-first, same order),
 * plus our bearer rule, sk-proj rule and PEM rule, over generated
 * lines dense in keywords, separators, quotes, Unicode blanks and
 * invalid UTF-8.
 */
static const struct vec generated[] = {
	{ "ghx_\343\200\200enEatXTgk4yDLbbW=+wE1DJmWHg=BuCfqKbazXWU"
	    "sk-svcacct-AKIAawS_secreT_AcCESS_kEy", 83,
	    "ghx_\343\200\200enEatXTgk4yDLbbW=+wE1DJmWHg=BuCfqKbazXWU"
	    "[REDACTED]", 57 },
	{ "iZ\364WV9A7FY2IEKsk-svcacct-\042aCceSstoKen :  OoKKqdzqc"
	    "qAzkfvQx4p7J5rtBEwL7cQjBeQPJFll2='gho_", 88,
	    "iZ\364WV9A7FY2IEKsk-svcacct-\042[REDACTED]gho_", 40 },
	{ "bad newsY262CTBKNLUCLG83BGaPikey =JhguoqHz6LyOUnwgals1iG"
	    "fwDldWgLq23vQdTLB1=", 75,
	    "bad newsY262CTBKNLUCLG83BG[REDACTED]=", 37 },
	{ "JW\001pWd:n19obYPassword", 21,
	    "JW\001[REDACTED]", 13 },
	{ ".= Auth-tokeNBeAreR=\042FaOXC1kYk9Ms0RzfmKVsCGZsnMg=WoW+"
	    "Jiup+Rq", 60,
	    ".= Auth-tokeN[REDACTED]+Jiup+Rq", 31 },
	{ "KNCHDEBQ8SYBearerfnBSggfgGyidbMrNrEQIAZy9\246apiKey\042 "
	    "='Qj4W6K05sKtJ7umkMQiNEyK3hU+IxwGt14j==", 89,
	    "KNCHDEBQ8SYBearerfnBSggfgGyidbMrNrEQIAZy9\246[REDACTED]+"
	    "IxwGt14j==", 63 },
	{ "ba\303\251 \303\251b\303\251babapi-kEybEarEr\302\205:"
	    "\302\2053WEv5KTMYf5=SeBcegIqsFbSJ", 56,
	    "ba\303\251 \303\251b\303\251babapi-kEy[REDACTED]", 30 },
	{ "BEaReR'\342\200\203= HA9mfpkB2jIfnMqiaS'5068412195secReT"
	    ":  'ytvofbapi_key :\342\200\203\042lR1I4rbZZd4lFDWuYN3Qx"
	    "sDUPKnQwF3/M0WT4Zsk", 110,
	    "BEaReR'\342\200\203= HA9mfpkB2jIfnMqiaS'5068412195[REDAC"
	    "TED]", 51 },
	{ "5OTCWI4TL65MX3BWDapI_Key':0rjRcXEVucVfw1MdXcehboiJhg'"
	    "\042,the ", 59,
	    "5OTCWI4TL65MX3BWD[REDACTED]\042,the ", 33 },
	{ "Aws-secretAcCesS_keyR38VL5ZNTP1secretsecRet\342\200\203:"
	    "S2yTqoivi9E5doEjt3egOe6Y39wkNOrHfOz==", 84,
	    "Aws-secretAcCesS_keyR38VL5ZNTP1secret[REDACTED]", 47 },
	{ "ACCEss_toKEN'='nZ8nRHEQei3FOo_a-OofdLYG6k=KvTuTxnutEHCDm"
	    "=k-CpS", 62,
	    "[REDACTED]", 10 },
	{ "of aUTh-ToKen\042\011:\011'hSXYplaTBN7Wn8N0k_SvVF8", 41,
	    "of [REDACTED]", 13 },
	{ "aUth-TOkeN='9eVuxTK5YbFI0MCS9pxukKIZGWNjwCSOx1v1_Fjr5oiG"
	    "r3B7ByN", 63,
	    "[REDACTED]", 10 },
	{ "pwd'  =\342\200\203'1ASZZ/KI3HdX54T8boWkL37r3b9WA/7QpTD="
	    "==passWorDthe \314bad news", 70,
	    "[REDACTED] \314bad news", 20 },
	{ "bEarEr1SZVtT22FcUat\343\200\200PAsswoRD:\302\205'07dX7HP"
	    "Rbb\360\237\230\200sk-ant-", 55,
	    "bEarEr1SZVtT22FcUat\343\200\200[REDACTED]", 32 },
	{ "Y5DYdujPwWwTxoxq-sk-svcacct-toKenVeymXtOLHIxKExOEl5bEoE9"
	    "ff=Au47zgT:", 67,
	    "Y5DYdujPwWwTxoxq-[REDACTED]=Au47zgT:", 36 },
	{ "autH_token\342\200\203=  '1Aon+hSfKbOcRjDT/oHBn1e3Sh5bzx"
	    "/kRwO7rBwnpi'68TtBrtlWjvthe \216iApi_KEY/63990788", 93,
	    "autH_[REDACTED]68TtBrtlWjvthe \216iApi_KEY/63990788", 48 },
	{ "sk-svcacct-sk-sk-svcacct-aUthorIZatiOn\042  =AsjwdRaaPAA"
	    "iq+=d+fyUnwduh7zlCDAq3nwAjd/\042bearEr\042:\302\205\042w"
	    "gKxMXk9X'", 103,
	    "[REDACTED]\042  =AsjwdRaaPAAiq+=d+fyUnwduh7zlCDAq3nwAjd/"
	    "\042bearEr\042:\302\205\042wgKxMXk9X'", 75 },
	{ "AcceSStoken' =V6dC2WXkWPIToPuyYN6K65H/uMm=TlilowXpd3zsMA"
	    "W=zUT4SAvcTN9agdDv.AdvGCWtAJo5.Swu", 90,
	    "[REDACTED]/uMm=TlilowXpd3zsMAW=zUT4SAvcTN9agdDv.AdvGCWtA"
	    "Jo5.Swu", 63 },
	{ "\211\017\247\267AKIAPHO2NTJJB18RB28N8I\346\274\242 \360"
	    "\237\230\200aa", 36,
	    "\211\017\247\267[REDACTED]8I\346\274\242 \360\237\230"
	    "\200aa", 26 },
	{ "BeARer'\326\241aPi-KeY  = \042Kh0zkRTnRrVmpOEb66tdPgo"
	    "\354\224\201", 47,
	    "BeARer'\326\241[REDACTED]\354\224\201", 22 },
	{ " x ghp_\177\030\330YssecrEtRSA \342\200\203passwd\342"
	    "\200\203=\011\042Cz/UKTp9SJAWe75UNDio946fY1DnnHa8elA5Ej7"
	    "j===-", 81,
	    " x ghp_\177\030\330YssecrEtRSA \342\200\203[REDACTED]", 35 },
	{ "AKIA\0424117203742\031\034!\206]\013  sk-ant-seCret' =4I"
	    "c4PFb7'AcCEss_tokEN =G8b=g9hKHn70E9n0o1H7HUfJOlFObhkb4Za"
	    "RcAQ", 101,
	    "AKIA\0424117203742\031\034!\206]\013  sk-ant-[REDACTED]["
	    "REDACTED]", 50 },
	{ "apIKey_\011sk-ant-48224786615666283051-Pwd", 39,
	    "apIKey_\011[REDACTED]", 18 },
	{ "KeY#\337\366of sk-proj-o6rzuBeaLwXYBVBn4OfZ63lcT64100027"
	    "5500ee0JeiphyCZcuv \303\251b\346\274\242b", 76,
	    "KeY#\337\366of [REDACTED] \303\251b\346\274\242b", 27 },
	{ "sk-ant-\342\200\203Ue4mZ1tRh_Normal log83295986368pwd="
	    "\342\200\203\042=0F9thqtb/XSc64RBlYVD+E4i0fVv7A5IxOS5ncW"
	    "C1\042", 92,
	    "sk-ant-\342\200\203Ue4mZ1tRh_Normal log83295986368[REDAC"
	    "TED]", 51 },
	{ "sk-admin-nTmS4K2cveamcBcTyuk07wKb/lcQMKLPbU8aPv", 47,
	    "[REDACTED]/lcQMKLPbU8aPv", 24 },
	{ "aCcess_ToKEn'\302\205= FMKZhsk9Jwuz440AZwPHApi_key  =  '"
	    "2X\346\274\242lNc46\042", 61,
	    "[REDACTED]  =  '2X\346\274\242lNc46\042", 27 },
	{ "sk-ant--xoxq-ghx_4987503616:|\360\237\230\200a", 34,
	    "[REDACTED]:|\360\237\230\200a", 17 },
	{ " x pWd\042:\011UHDYOLFlTEdgmnMVPeboCKZm8932594038\034"
	    "\034the Hw5qNMoiD2OBpSlvpcwBK5MRCKRq96oPh0EHQnwoKFNNGE56"
	    "B9VWXZ", 103,
	    " x [REDACTED] Hw5qNMoiD2OBpSlvpcwBK5MRCKRq96oPh0EHQnwoKF"
	    "NNGE56B9VWXZ", 68 },
	{ "aUth-TOkeN\042\342\200\203:VSvmMj9nV4ZTq7lcUxlpfqIhUOXr2"
	    "gfZ6==H4bIAPikey  :'cu5BfYFI1=Hm4WY_lT=_'.pasSWOrd", 94,
	    "[REDACTED]  :'cu5BfYFI1=Hm4WY_lT=_'.pasSWOrd", 44 },
	{ "BEarer:\342\200\203jwYLTR3sLu6sK9CZOe8pzfOlslZW3Le4IeFVt"
	    "M\042AutH_tOkeNBEARER'\302\205= ul-hnF_2UAG2IZVe=a-73Toy"
	    "=AIza", 99,
	    "[REDACTED]AutH_tOkeN[REDACTED]", 30 },
	{ "pasSwD:\042m9C+JGOD/+py1fyg8YbFGeQnrEwdvvw9sy4+x2fFFb'_"
	    "\302\205", 54,
	    "[REDACTED]_\302\205", 13 },
	{ " x credeNtiaL'\011= dub0JJVOJW2+upIXio13bCecBRn8c/Cmn0Nq"
	    "UkZ/kYQ=\042\011accEss_tOkEn", 75,
	    " x [REDACTED]\011accEss_tOkEn", 26 },
	{ "bad newsa \346\274\242a\360\237\230\200\346\274\242R4Z0H"
	    "19E3YTJHWYHUF8R.aCcEss_tokeN' =  \042rFzYJdBnXbsKiDf8Dim"
	    "SdG9oZfUxO9H090799069:", 101,
	    "bad newsa \346\274\242a\360\237\230\200\346\274\242R4Z0H"
	    "19E3YTJHWYHUF8R.[REDACTED]:", 53 },
	{ "APi_Key= \0427+88/Z+t2rAiPglXHqAWEF154QJi5y7OZOvY0o2K/ I"
	    "11Te7UjmGahHONvcmOReEMusiOThB1i8ZT0nqzjP27X5Il0", 100,
	    "APi_[REDACTED] I11Te7UjmGahHONvcmOReEMusiOThB1i8ZT0nqzjP"
	    "27X5Il0", 63 },
	{ "SecrEtapi-KeY632294232auth_tokEn'='6yyY5m.blU2vT-lu=54E_"
	    "E5K'", 60,
	    "SecrEtapi-KeY632294232[REDACTED]", 32 },
	{ "of 3ABOtULjB3oq32XLCBl6beJcRD5OD57RrJlD6uS0ghx_ApI-kEypa"
	    "SsWd'  ='2fNOZ7qKeyF.", 77,
	    "of 3ABOtULjB3oq32XLCBl6beJcRD5OD57RrJlD6uS0ghx_ApI-kEy[R"
	    "EDACTED]", 64 },
	{ "PRIVATE KEY-----BeARerAwS_seCRet_aCceSs_key\042  :GhByP9"
	    "0YA2/cdKZF7E8YSGsl7l012jyOL98A0+HosW8Z==='", 95,
	    "PRIVATE KEY-----BeARer[REDACTED]sW8Z==='", 40 },
	{ "Access_toKEn\011: Xx+DdederGNb7awCabYojNBH19mtWjmaDJjf+b"
	    "zn tOkenghp_A1iAmqZdWyGaxTMVUtxJ3EWHC9QcHRua", 97,
	    "Access_[REDACTED] tOkenghp_A1iAmqZdWyGaxTMVUtxJ3EWHC9QcH"
	    "Rua", 59 },
	{ ".auTHorIZation-Bearer'=  c.nnGSjMUj66J6pC_ZbD.omLg=zxNqZ"
	    "QPwd ='jj1wwteSf4bpgh5okYalV", 84,
	    ".auTHorIZation-[REDACTED] ='jj1wwteSf4bpgh5okYalV", 49 },
	{ "paSSwD'\302\205=\011MfWLQLDFuzaeEgBMTRsv+uOW+pmXMeGgz33k"
	    "O970347093419AccESsTokeN\360\237\230\200\303\251\346\274"
	    "\242\346\274\242\346\274\24227682135865", 97,
	    "[REDACTED]", 10 },
	{ "2196636751CrEdenTiAl\342\200\203:'tmmXl7'== x tOken\342"
	    "\200\203:hmvwcGcftZTGLrvMYBgTnbEqiYL4lFkhas6thMrkq2\042B"
	    "EArEr", 95,
	    "2196636751CrEdenTiAl\342\200\203:'tmmXl7'== x [REDACTED]"
	    "BEArEr", 53 },
	{ "aWs-secREtacceSs_key:l7tgMW88MVE8fHIWwVhNz5lEGQwTkFIX5Xu"
	    "25XKKKG85eeM2vhsk-\333\252 ", 77,
	    "[REDACTED]KG85eeM2vhsk-\333\252 ", 26 },
	{ "-H\350\3611\350\035pwD\042\302\205=\011Xx2ek3NWJtuiwEY90"
	    "QKX5zb\042xoxb-TajYiZ82", 52,
	    "-H\350\3611\350\035[REDACTED]xoxb-TajYiZ82", 30 },
	{ "sk-proj-bad newsAKIABEARER':\342\200\203YwSa9bDWKVJ7Bcy2"
	    "YAp6MeBWBPOTh'9Z\321\222\376\305aUtH-tokENTOKen", 82,
	    "sk-proj-bad newsAKIA[REDACTED]9Z\321\222\376\305aUtH-tok"
	    "ENTOKen", 51 },
	{ "ghx_kEy\042:\342\200\203\0428pNNqbHffwlbr12NQzScBMZTyT/q"
	    "Ap5v3NGzCjIGF'YVYGGIT7SFJbEaRersk-ant-", 79,
	    "ghx_[REDACTED]YVYGGIT7SFJbEaRersk-ant-", 38 },
	{ "41ByvI5Plmno4VEdEw3=LPmuDH2oXunQBeaReR\342\200\203:'Mosb"
	    "zXDIT7=WEqbrj9LgxtRhrngtaoH=Wrs/lpY\04258762871345254675"
	    "8483", 104,
	    "41ByvI5Plmno4VEdEw3=LPmuDH2oXunQ[REDACTED]/lpY\042587628"
	    "713452546758483", 68 },
	{ "paSsWD=fyH6sU7WRVECWsOC2\042bad news", 33,
	    "[REDACTED]bad news", 18 },
	{ "sk-proj-xoxb-AccEssToKeNcredeNTiAl' :\01176YRCMcn0e1SY02"
	    "701310", 59,
	    "[REDACTED]' :\01176YRCMcn0e1SY02701310", 35 },
	{ "4T27BDTVVJ230W6C\177\245BEarEr=\302\205E5isQf2JufAc4htt5"
	    "COcSf96Z'/bad news\343\200\200r6\007{\300", 70,
	    "4T27BDTVVJ230W6C\177\245[REDACTED]/bad news\343\200\200r"
	    "6\007{\300", 45 },
	{ "secrEt\011:\011j9zaReVLjtokEn\042\342\200\203:CM\303\251"
	    "OtUhaGWtAT6=21fwOuqbGnBoFrg1Hda7AlNkuE6GLimW\262\345", 78,
	    "[REDACTED]\342\200\203:CM\303\251OtUhaGWtAT6=21fwOuqbGnB"
	    "oFrg1Hda7AlNkuE6GLimW\262\345", 64 },
	{ "pAssword\042:hwqGPQx0A6Au5RHI_7wZuYIEg\220r\036\303Passw"
	    "d\011:\302\205wZ8Ik3u\042Bearer35144224", 71,
	    "[REDACTED]\011:\302\205wZ8Ik3u\042Bearer35144224", 36 },
	{ "bbKEyAKIA\302\205H8FGOIA3SKEOSKHPIPasswOrd: 65a4zZ2zcUDU"
	    "IOPBRMALTQZO6IRS", 66,
	    "bbKEyAKIA\302\205H8FGOIA3SKEOSKHPI[REDACTED]", 38 },
	{ "access_tOken  :  VwqCxYfYob78673371MY0VMH97VNB06MFaCcEss"
	    "_ToKeN\360\237\230\200\346\274\242b\346\274\242\303\251a"
	    "\303\251\346\274\2425S1DJ3QXHMGU6", 94,
	    "[REDACTED]\360\237\230\200\346\274\242b\346\274\242\303"
	    "\251a\303\251\346\274\2425S1DJ3QXHMGU6", 42 },
	{ "secretNormal logbeaRer= \042ONUdXxqRb\346\274\242\042aUt"
	    "h_TokenpasswORD'\302\205: \042ACo0sopCl3yJW2pYobwONljX08"
	    "1yHuE7y4E3", 98,
	    "secretNormal logbeaRer= \042ONUdXxqRb\346\274\242\042aUt"
	    "h_Token[REDACTED]", 58 },
	{ "77468966Access_tokenxoxb-sEcrET'=t8xV2tlAjPEZOdqLO7bVCN'", 56,
	    "77468966Access_tokenxoxb-[REDACTED]", 35 },
	{ "\342\200\203PaSswORd\042\011=  \042KhLZ.XyuQVyP.GDtK1v'a"
	    "CcESstOKEn=  'szJTemqa+OSkpiohr97I9o7FYmFh3C9OdsjIK6AqSy"
	    "=sk-ant-\042", 103,
	    "\342\200\203[REDACTED]aCcESs[REDACTED]sk-ant-\042", 37 },
	{ "APi-key\011:\302\205\042gX67F9sHrjQwsCMNClvmSooL8NToGHNu"
	    "W1IZo+6kgn3==aCcEsStokeN': Kh90wumcI0ykPIpCyoCRFCnrnjglb"
	    "3X8fMJQ9V", 109,
	    "[REDACTED]+6kgn3==[REDACTED]", 28 },
	{ "1GZ4JJ9U1V1JCD23C4apikEy\011:'z2gepuFZFP85t7Cwb9wzs2ge25"
	    "x7QtX", 58,
	    "1GZ4JJ9U1V1JCD23C4[REDACTED]", 28 },
	{ "BearerpAsswOrd\042= '5epmvTudm\042", 28,
	    "Bearer[REDACTED]", 16 },
	{ "Normal logsk-admin-Bearer =\342\200\203\0426XfJbfvoEvF6p"
	    "jIw_OeZt\042\011A\324\306_\34234547296sk-ant-PRIVATE KEY"
	    "-----", 90,
	    "Normal logsk-admin-[REDACTED]\011A\324\306_\34234547296s"
	    "k-ant-PRIVATE KEY-----", 66 },
	{ "pWD =\011'Ik6QhLNz4Svk7HyNKP8W4JKrzsQJCOtgxiv1==\042autH"
	    "orizatIoNsk-toKen': IGQP7V'", 77,
	    "[REDACTED]autHorizatIoNsk-toKen': IGQP7V'", 41 },
	{ "cReDenTial' :'xRl8lJz+XoPLoen3JlWmO8rtExh9TG7OHv608VK3z="
	    "\042aa\303\251a\346\274\242\346\274\242\360\237\230\200 "
	    "\303\251\303\251YM9Q190N5F2MLAEIU", 94,
	    "[REDACTED]aa\303\251a\346\274\242\346\274\242\360\237"
	    "\230\200 \303\251\303\251YM9Q190N5F2MLAEIU", 47 },
	{ "sk-svcacct-sk-ant-aUthorizATion\302\205:yh5alpiRpmwHabl6"
	    "LHCfDCwszcli04J6vI63nmVj9q7rvg", 80,
	    "[REDACTED]\302\205:yh5alpiRpmwHabl6LHCfDCwszcli04J6vI63n"
	    "mVj9q7rvg", 59 },
	{ "BEARERBEARER\302\205=.ooOsrv58WmBZu3DJRseaWs_SEcrET_accE"
	    "ss_KEY'\034", 58,
	    "BEARER[REDACTED]\034", 17 },
	{ "73ZBXBP8NYauth_token = V7cheNVcIkWMTHOXqibgDdxRoqdnPeL2Y"
	    "e8lKcWsk-ant-E0Q93Y70QI0FAL6", 84,
	    "73ZBXBP8NY[REDACTED]", 20 },
	{ "sk-proj-ghx_Q9/PmxdmiOFGRarRKzm=Kw6VgPbqXebk18wKtY4zcPqs"
	    "k-ant-awS-secreTacCeSS_key\042\011: KRLxYQl\303\251'", 96,
	    "sk-proj-ghx_Q9/PmxdmiOFGRarRKzm=Kw6VgPbqXebk18wKtY4zcPq["
	    "REDACTED]\042\011: KRLxYQl\303\251'", 79 },
	{ "BEARER':\342\200\2039sioouicUFQFLQbkuYK1bynDCe6fUFkwDU4u"
	    "6QVjAH'+credenTiaLPRIVATE KEY-----l\222\362829640904617", 96,
	    "[REDACTED]+credenTiaLPRIVATE KEY-----l\222\3628296409046"
	    "17", 52 },
	{ "apI_keY' =  'Vh5Ha7F4MxTGSdbqmLiblGQtGSdkDE0YB4YHXSm\042"
	    "sk-svcacct-\003yUoeuRz1W=6UonyXf0dZTu3UZ=K4Hi4o/+p", 100,
	    "[REDACTED]sk-svcacct-\003yUoeuRz1W=6UonyXf0dZTu3UZ=K4Hi4"
	    "o/+p", 57 },
	{ "paSSWord  = y5T8HbxEF2Y6w-_wP553877701xoxq-gho_PRIVATE K"
	    "EY-----", 63,
	    "[REDACTED] KEY-----", 19 },
	{ "BEarer':\011'noM1LiGR1XWSf2hgSS-k  96377878866AuTh_tokEn"
	    "\3211%AKIA5W9kyvhUnsvyIgBCwROi.4xDmicO7iyW", 92,
	    "[REDACTED]  96377878866AuTh_tokEn\3211%AKIA5W9kyvhUnsvyI"
	    "gBCwROi.4xDmicO7iyW", 72 },
	{ "sk-ant-passwDAy8lNYLx6p95Echfo6Iq'", 34,
	    "[REDACTED]'", 11 },
	{ "pwd\042:\0116YKkRzXG0u/FNKszgg4o/yplkd3420pOSFqTWCHkQEVN"
	    "==", 52,
	    "[REDACTED]", 10 },
	{ "bEaReRCredentiAl==auth-TokeN\342\200\203:\011\0420mZZD3c"
	    "fhlDAXCwW2bQy2wfdueJROOeFFC9lfo\042EqzTmQb9Vgt05yaO086uq"
	    "418ZQlbPwnp", 105,
	    "bEaReRCredentiAl==[REDACTED]EqzTmQb9Vgt05yaO086uq418ZQlb"
	    "Pwnp", 60 },
	{ "auTH-ToKen\042\011=  3MFaFWXkeSLc0TTiiKx=FlR=0n5UHoOfgoh"
	    "8BdtoJ/\360\237\230\200\360\237\230\200\346\274\242\360"
	    "\237\230\200\346\274\242absk-ant-access_tokeNh\027", 98,
	    "[REDACTED]/\360\237\230\200\360\237\230\200\346\274\242"
	    "\360\237\230\200\346\274\242absk-ant-access_tokeNh\027", 52 },
	{ "\303\251 \345\335VHwTUmiUCUtqK9jdURPP6zNVRNfjQyWfHE74bp7"
	    "kO0Hjbue7bapikEy\302\205=\302\205'OEeagio6qPotGT3ylYsKa0"
	    "7rZsHrawMZuzX/9T\042", 105,
	    "\303\251 \345\335VHwTUmiUCUtqK9jdURPP6zNVRNfjQyWfHE74bp7"
	    "kO0Hjbue7b[REDACTED]/9T\042", 68 },
	{ "BEarer\302\205: bI-MwoBqqD.ynSJhYDfxe\042", 32,
	    "[REDACTED]", 10 },
	{ "bEarer\342\200\203: 'y2cL365ZF2ZM.u2Oy8V3nlxwe'", 38,
	    "[REDACTED]", 10 },
	{ "21627992auth-toKEn\342\200\203=\342\200\203'8SMxi7erRs.I"
	    "8926TJSN4KV4UE", 52,
	    "21627992[REDACTED]", 18 },
	{ "pwDPAsSword\042\011=  \0425=wHgPAWd_xW1OimQQh", 36,
	    "pwD[REDACTED]", 13 },
	{ "-APi_KEy:  wtLdoRNQE8\042PRIVATE KEY-----aCcess_toKen'"
	    "\302\205='nh7dSkyvi0z3fPqwrPI8JXTpY\042CrEdentiAl  :p3JG"
	    "HR'", 101,
	    "-APi_KEy:  wtLdoRNQE8\042PRIVATE KEY-----[REDACTED]CrEde"
	    "ntiAl  :p3JGHR'", 68 },
	{ "63195023217845897482839accesS_Token:\342\200\203'XE9jO1B"
	    "Ftya5K0Z5OcEem99nHfTX\042727305253880", 81,
	    "63195023217845897482839[REDACTED]727305253880", 45 },
	{ "pWD  =  \042vOgsmA3QOUEFEP0VN7R9CYD8AFDzg4gEwhDKkRTyFsLd"
	    "lQxJUWTceoOGjrqCH3Lx7vTSRlYK/6b/ghp_.M!\224\006", 94,
	    "[REDACTED]", 10 },
	{ "AwS_SEcRET_acCeSs_key\342\200\203=\042h4Y4h1ftxDtlYzw7QI"
	    "C7SoJV9GTSyO3496VPytSeauth-toKen  =  'IYIe0g'\042Pwdkey", 96,
	    "[REDACTED]auth-toKen  =  'IYIe0g'\042Pwdkey", 40 },
	{ "SBearer' : \042T=COxkqaHa8g4DAo_qQzaUth-tOkEn\042 :\342"
	    "\200\203vNcLaFv5h\042=", 59,
	    "S[REDACTED] :\342\200\203vNcLaFv5h\042=", 27 },
	{ "ghx_cRedENtiaL: fRuZ4\303\251Qgar\0429861366764'AIzat7Ck"
	    "VGRywTnzel63yMS6EyhmYUA3dwFYl1fDcw+kXYW8QIQx", 91,
	    "ghx_cRedENtiaL: fRuZ4\303\251Qgar\0429861366764'[REDACTE"
	    "D]Dcw+kXYW8QIQx", 62 },
	{ "API_KEy\042\342\200\203:\0114oxBtKSMWqkg38pzhNd40HP6opPr"
	    "Tukmqn0h8/d7\042PP1A32SM470PF8RHX8ghx_pasSwd \303\251a 7"
	    "9fFaZsrmnshX", 100,
	    "[REDACTED]/d7\042PP1A32SM470PF8RHX8ghx_pasSwd \303\251a "
	    "79fFaZsrmnshX", 60 },
	{ "048439478661\202h\034vu9cdfUBIH_hSogB3yosecrEt :'lFe446w"
	    "kOUEak82DyLb\011", 63,
	    "048439478661\202h\034vu9cdfUBIH_hSogB3yo[REDACTED]\011", 45 },
	{ "\346\274\242\303\251a\303\251\303\251\346\274\242b\303"
	    "\251\360\237\230\200ghp_\036p~Jgt>>\205gqbad newsautH_tO"
	    "kEN\042\342\200\203= \042mjGuAv4.8msnFf46Djn5Ado1\042", 85,
	    "\346\274\242\303\251a\303\251\303\251\346\274\242b\303"
	    "\251\360\237\230\200ghp_\036p~Jgt>>\205gqbad news[REDACT"
	    "ED]", 53 },
	{ "awS_secrEt_access_kEy\346\274\242\303\251\303\251\360"
	    "\237\230\200b\360\237\230\200a \346\274\242auTh-TOKeN"
	    "\342\200\203:6JUlhcmAcYvtNhXcTAml8B1ydMMVsVrq7bhGjF=", 95,
	    "awS_secrEt_access_kEy\346\274\242\303\251\303\251\360"
	    "\237\230\200b\360\237\230\200a \346\274\242[REDACTED]", 52 },
	{ "Auth-token\042=\302\205isicDRcLj716382565the -\252\272A"
	    "\302\205Nezbx4nWhV=hg4oyp9uWau6hXH/ULfCFVbh5lzfPWKWj", 86,
	    "[REDACTED] -\252\272A\302\205Nezbx4nWhV=hg4oyp9uWau6hXH/"
	    "ULfCFVbh5lzfPWKWj", 61 },
	{ "apI-kEyaUthorIZatIon' = \042GjrZoqa b\303\251\303\251bba"
	    " \360\237\230\200\346\274\24282451915paSSwd\342\200\203="
	    "\302\205\0426gS0JNIk2MsWu.QYm4Y1qsk-svcacct-", 102,
	    "apI-kEyaUthorIZatIon' = \042GjrZoqa b\303\251\303\251bba"
	    " \360\237\230\200\346\274\24282451915[REDACTED]", 67 },
	{ "aWs-seCreTAccEss_key'=\342\200\203'1vpfroqA/WpqQNAL+u7V9"
	    "PbUH7rJgDz7ls/WIwlD==aUth_token12680686396AIzaD", 94,
	    "[REDACTED]==aUth_token12680686396AIzaD", 38 },
	{ "tOken'\342\200\203=\302\2053ma244'sk-proj-093685674xoxb-"
	    "s7xCbGqUZ2FSMoViRGwfXr49PA=P0J-L2w1t2GMJ8AXDO4J46TTDXRLs"
	    "k-svcacct-", 107,
	    "tOken'\342\200\203=\302\2053ma244'[REDACTED]=P0J-L2w1t2G"
	    "MJ8AXDO4J46TTDXRLsk-svcacct-", 69 },
	{ ".\211GT\325pASsword\042  =\302\205'9E6uIZuSMMIybn33pwSvZ"
	    "ujXIghx_:\302\240", 52,
	    ".\211GT\325[REDACTED]\302\240", 17 },
	{ "spYtXHIRbNHPpa_\326ReWXq9nMeaqsMpV0Dl=6-fS2MqvaPw-SEO_sk"
	    "-proj-HYUnv1cVkU-f83iiXkwO4Wj5XgugsE5pwd", 93,
	    "spYtXHIRbNHPpa_\326ReWXq9nMeaqsMpV0Dl=6-fS2MqvaPw-SEO_[R"
	    "EDACTED]", 61 },
	{ "/pWd\042\342\200\203=\0421u1lBrxJeM8L2LRIc9oE6g16PDX5vjV"
	    "Q\042", 43,
	    "/[REDACTED]", 11 },
	{ "  T8VpW538750626483\314O*f/PAssWDbearer :\342\200\203'Bd"
	    "lyjWBTqwrbZkTym9FmY\360\237\230\200\346\274\242\303\251", 72,
	    "  T8VpW538750626483\314O*f/PAssWD[REDACTED]\360\237\230"
	    "\200\346\274\242\303\251", 49 },
	{ "_kKtLBR8jB5==aO1FdHvTRPvzfPvRug63v-kTO2NGHALG7PIZA4Z6013"
	    "808527PwD'  =\011G3TXtjrL1U1xgKKot2WOG1nMzQPzDuM9Gog=", 106,
	    "_kKtLBR8jB5==aO1FdHvTRPvzfPvRug63v-kTO2NGHALG7PIZA4Z6013"
	    "808527[REDACTED]", 72 },
	{ "\007VH\254\224\345\032\3448HqfvPw=WbAYzVjEIxtx0f2AoYvHdk"
	    "9LC3U5aZ8QkWqIAaMw\011\342\200\203aws-sEcretacCeSS_key  "
	    ":'JPyDM-xxlLokb0TDR\042", 102,
	    "\007VH\254\224\345\032\3448HqfvPw=WbAYzVjEIxtx0f2AoYvHdk"
	    "9LC3U5aZ8QkWqIAaMw\011\342\200\203aws-sEcretacCeSS_key  "
	    ":'JPyDM-xxlLokb0TDR\042", 102 },
	{ "xoxb-KEy", 8,
	    "xoxb-KEy", 8 },
	{ "J6IBUI5HW66QXXQUBMPNFanjy=u3sOtRVq4QFb5zbhXPOH9afqdMJtKE"
	    "y=\302\205'RIK8Wniy786SJvChc6OkArZcCf1rfbtCcF'\260", 97,
	    "J6IBUI5HW66QXXQUBMPNFanjy=u3sOtRVq4QFb5zbhXPOH9afqdMJtKE"
	    "y=\302\205'RIK8Wniy786SJvChc6OkArZcCf1rfbtCcF'\260", 97 },
	{ "BeArer", 6,
	    "BeArer", 6 },
	{ "\003\267\342\241", 4,
	    "\003\267\342\241", 4 },
	{ "\303\251\303\251\346\274\242 \346\274\242\360\237\230"
	    "\200a  \360\237\230\200abHEIGN2QQIZUOT  bad news\034a aa"
	    "\346\274\242\360\237\230\200b\303\251\360\237\230\200551"
	    "26408", 74,
	    "\303\251\303\251\346\274\242 \346\274\242\360\237\230"
	    "\200a  \360\237\230\200abHEIGN2QQIZUOT  bad news\034a aa"
	    "\346\274\242\360\237\230\200b\303\251\360\237\230\200551"
	    "26408", 74 },
	{ "SecRetthe PRIVATE KEY-----accesstOkeNapi_kEy", 44,
	    "SecRetthe PRIVATE KEY-----accesstOkeNapi_kEy", 44 },
	{ "xt6ehnJBzLaHzUSqEdcb0XLhZpIUvDSDTQsL5x10TIxdaG2aUth-TOkE"
	    "NapI-kEyxoxb-", 69,
	    "xt6ehnJBzLaHzUSqEdcb0XLhZpIUvDSDTQsL5x10TIxdaG2aUth-TOkE"
	    "NapI-kEyxoxb-", 69 },
	{ "CREDEnTIal  :\302\205\042v25wg0tIzJ6kIkTcN9ghx_", 38,
	    "CREDEnTIal  :\302\205\042v25wg0tIzJ6kIkTcN9ghx_", 38 },
	{ "RXF1ZB2NWZE30YS5KZHRbb\346\274\242bbV-_W2nCu-b0O6Fe-C4"
	    "\302\205:", 48,
	    "RXF1ZB2NWZE30YS5KZHRbb\346\274\242bbV-_W2nCu-b0O6Fe-C4"
	    "\302\205:", 48 },
	{ "7wyzhEPgASZ5HEXDc4ldn0fr94iviNHrVGauTh-tokenCarSEcv0IrnL"
	    "4oYnrtDCb967Id6xi  \360\237\230\200a\360\237\230\200a"
	    "\360\237\230\200b\303\251a\360\237\230\200", 97,
	    "7wyzhEPgASZ5HEXDc4ldn0fr94iviNHrVGauTh-tokenCarSEcv0IrnL"
	    "4oYnrtDCb967Id6xi  \360\237\230\200a\360\237\230\200a"
	    "\360\237\230\200b\303\251a\360\237\230\200", 97 },
	{ "J=KjSG+A9xHsB9R017PQdku5pTjl8kATpkf-", 36,
	    "J=KjSG+A9xHsB9R017PQdku5pTjl8kATpkf-", 36 },
	{ "TqtVrv76st22PEPfHdTB3pSfc5tRCT0DBQd+xRP95qyLapkZDN\302"
	    "\205865666768397", 64,
	    "TqtVrv76st22PEPfHdTB3pSfc5tRCT0DBQd+xRP95qyLapkZDN\302"
	    "\205865666768397", 64 },
	{ "sk-svcacct-pWdbad news", 22,
	    "sk-svcacct-pWdbad news", 22 },
	{ "TTNjiNX4kFtF1zwjDFuqAuthOrIzAtiOn2bHx1XtF2Q-ja7bIY7CeyWv"
	    "4eZICOYqmKq\217\264\313", 70,
	    "TTNjiNX4kFtF1zwjDFuqAuthOrIzAtiOn2bHx1XtF2Q-ja7bIY7CeyWv"
	    "4eZICOYqmKq\217\264\313", 70 },
	{ "bb\360\237\230\200", 6,
	    "bb\360\237\230\200", 6 },
	{ "N9of ", 5,
	    "N9of ", 5 },
	{ "-vA2fmBC87NiFx3oeHfDOeGz330uCD598TCQD08MM7V46TWD>t", 50,
	    "-vA2fmBC87NiFx3oeHfDOeGz330uCD598TCQD08MM7V46TWD>t", 50 },
	{ "\255h\257\32566oxXlXdjN=vb\346\274\242\360\237\230\200"
	    "\360\237\230\200\303\251 --", 33,
	    "\255h\257\32566oxXlXdjN=vb\346\274\242\360\237\230\200"
	    "\360\237\230\200\303\251 --", 33 },
	{ "xoxq-", 5,
	    "xoxq-", 5 },
};

/* Redact one line; a NUL-terminated copy of the result. */
static char *
red(struct redactor *r, const char *in, size_t len, size_t *outlen,
    int *changed)
{
	const char	*o;
	size_t		 ol;
	char		*copy;
	int		 c;

	c = redact_line(r, in, len, &o, &ol);
	assert_true(c == 0 || c == 1);
	if (c == 0) {
		/* Unchanged lines come back as they went in, uncopied. */
		assert_ptr_equal(o, in);
		assert_int_equal(ol, len);
	}
	copy = malloc(ol + 1);
	assert_non_null(copy);
	memcpy(copy, o, ol);
	copy[ol] = '\0';
	if (outlen != NULL)
		*outlen = ol;
	if (changed != NULL)
		*changed = c;
	return (copy);
}

/* A fresh redactor turns in into want, exactly. */
static void
check(const char *in, const char *want)
{
	struct redactor	*r;
	char		*got;
	size_t		 len;
	int		 changed;

	r = redact_new();
	assert_non_null(r);
	got = red(r, in, strlen(in), &len, &changed);
	if (strcmp(got, want) != 0)
		fail_msg("in:   \"%s\"\nwant: \"%s\"\ngot:  \"%s\"", in, want,
		    got);
	assert_int_equal(len, strlen(want));
	assert_int_equal(changed, strcmp(in, want) != 0);
	free(got);
	redact_free(r);
}

/* Inside a PEM block: line is masked REDACT_PEM_MAX_LINES times, then not. */
static void
pem_runs_out(struct redactor *r, const char *line)
{
	char	*got;
	size_t	 i;

	for (i = 0; i < REDACT_PEM_MAX_LINES; i++) {
		got = red(r, line, strlen(line), NULL, NULL);
		assert_string_equal(got, "[REDACTED]");
		free(got);
	}
	got = red(r, line, strlen(line), NULL, NULL);
	assert_string_equal(got, line);
	free(got);
}

/* Consecutive lines of one stream through r: in[i] gives want[i]. */
static void
check_lines(struct redactor *r, const char *const *in,
    const char *const *want)
{
	char	*got;
	size_t	 i;

	for (i = 0; in[i] != NULL; i++) {
		got = red(r, in[i], strlen(in[i]), NULL, NULL);
		if (strcmp(got, want[i]) != 0)
			fail_msg("line %zu: got \"%s\"", i, got);
		free(got);
	}
}

static void
check_vec(const struct vec *v, size_t n)
{
	struct redactor	*r;
	char		*got;
	size_t		 i, len;

	for (i = 0; i < n; i++) {
		r = redact_new();
		assert_non_null(r);
		got = red(r, v[i].in, v[i].inlen, &len, NULL);
		if (len != v[i].outlen || memcmp(got, v[i].out, len) != 0)
			fail_msg("vector %zu: got \"%s\"", i, got);
		free(got);
		redact_free(r);
	}
}

static size_t
count(const char *hay, size_t len, const char *needle)
{
	size_t		 n = 0, nl = strlen(needle);
	const char	*p = hay, *e = hay + len, *f;

	while ((size_t)(e - p) >= nl &&
	    (f = memmem(p, (size_t)(e - p), needle, nl)) != NULL) {
		n++;
		p = f + nl;
	}
	return (n);
}

static int
contains(const char *hay, size_t len, const char *needle, size_t nl)
{
	return (memmem(hay, len, needle, nl) != NULL);
}

static void
sink_emit(void *arg, const char *line, size_t len, int newline)
{
	struct sink	*s = arg;

	s->buf = realloc(s->buf, s->len + len + 1);
	assert_non_null(s->buf);
	memcpy(s->buf + s->len, line, len);
	s->len += len;
	s->buf[s->len++] = newline ? '\n' : '|';
	s->nlines++;
	if (!newline)
		s->ncut++;
	if (len > s->maxlen)
		s->maxlen = len;
}

static void
sink_free(struct sink *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

/* §5.3 worked examples, byte for byte (one deliberate difference). */
static void
test_upstream_examples(void **state)
{
	char	buf[128];

	check("Using key: sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
	    "Using key: [REDACTED]");
	check("OPENAI_API_KEY=sk-proj-1234567890abcdefghij",
	    "OPENAI_[REDACTED]");
	check("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
	    "AWS_ACCESS_KEY_ID=[REDACTED]");
	check("Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
	    "Authorization: [REDACTED]");
	check("password=hunter2hunter2 next", "[REDACTED] next");
	check("db_password: 'abc12345' ok", "db_[REDACTED] ok");
	check("secret=short", "secret=short");
	snprintf(buf, sizeof(buf), "Keys: sk-ant-abc123xyz456789012345 and "
	    "ghp_%s", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	check(buf, "Keys: [REDACTED] and [REDACTED]");
	check("Normal log message with no secrets",
	    "Normal log message with no secrets");
	/* Upstream: "the [REDACTED] bad news".  Ours leaves English alone. */
	check("the bearer of bad news", "the bearer of bad news");
}

/* §9: each pinned input comes out containing [REDACTED]. */
static void
test_upstream_pins(void **state)
{
	static const char *const pins[] = {
		"sk-ant-api03-aBcDeFgHiJkLmNoPqRsTuVwXyZ012345-_abc",
		"OPENAI_API_KEY=sk-proj-aBcDeFgHiJkLmNoPqRsTuV",
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
		"Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.x",
		"GITHUB_TOKEN=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
		"-----BEGIN RSA PRIVATE KEY-----",
		NULL
	};
	struct redactor	*r;
	char		*got;
	size_t		 i, len;
	int		 changed;

	for (i = 0; pins[i] != NULL; i++) {
		r = redact_new();
		assert_non_null(r);
		got = red(r, pins[i], strlen(pins[i]), &len, &changed);
		assert_int_equal(changed, 1);
		assert_non_null(strstr(got, "[REDACTED]"));
		assert_null(strstr(got, "sk-ant"));
		assert_null(strstr(got, "AKIA"));
		assert_null(strstr(got, "ghp_"));
		assert_null(strstr(got, "eyJ"));
		free(got);
		redact_free(r);
	}
	/* Two secrets: exactly two.  A plain message: unchanged. */
	r = redact_new();
	assert_non_null(r);
	got = red(r, "a sk-ant-api03-abcdefghijklmnopqrstu b AKIAIOSFODNN7EXAM"
	    "PLE c", 61, &len, NULL);
	assert_int_equal(count(got, len, "[REDACTED]"), 2);
	assert_string_equal(got, "a [REDACTED] b [REDACTED] c");
	free(got);
	got = red(r, "Normal log message with no secrets", 34, &len, &changed);
	assert_int_equal(changed, 0);
	free(got);
	redact_free(r);
}

/* Patterns 1-4: fixed prefixes, minimum and exact lengths. */
static void
test_prefix_patterns(void **state)
{
	/* 1: sk-ant- and at least 20 of [A-Za-z0-9_-], all of them. */
	check("k=sk-ant-abcdefghij0123456789 x", "k=[REDACTED] x");
	check("sk-ant-abcdefghij_-_-_-_-_-abc.x", "[REDACTED].x");
	check("sk-ant-abcdefghij012345678 x", "sk-ant-abcdefghij012345678 x");
	/* 2: sk- and at least 20 alphanumerics. */
	check("(sk-abcdefghij0123456789)", "([REDACTED])");
	check("sk-abcdefghij012345678", "sk-abcdefghij012345678");
	check("risk-assessment-of-the-plan", "risk-assessment-of-the-plan");
	/* 3: AIza and exactly 35; what follows stays. */
	check("AIzaSyA-1234567890abcdefghijklmnopqrstuVWX",
	    "[REDACTED]VWX");
	check("AIzaSyA-1234567890abcdefghijklmnopqrst",
	    "AIzaSyA-1234567890abcdefghijklmnopqrst");
	/* 4: AKIA and exactly 16 of [A-Z0-9]. */
	check("AKIAIOSFODNN7EXAMPLEXYZ", "[REDACTED]XYZ");
	check("AKIAIOSFODNN7EXAMPL", "AKIAIOSFODNN7EXAMPL");
	check("AKIAiosfodnn7example", "AKIAiosfodnn7example");
	check("AKIA is an AWS prefix", "AKIA is an AWS prefix");
}

/* Patterns 5-8 and 10: keyword, optional quote, blanks, [:=], value. */
static void
test_keyword_patterns(void **state)
{
	/* 5: exactly 40 characters, no closing quote taken. */
	check("aws_secret_access_key = \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXA"
	    "MPLEKEY\"", "[REDACTED]\"");
	check("AWS-SECRETACCESS_KEY:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLE"
	    "KEYab", "[REDACTED]ab");
	check("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPL",
	    "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPL");
	/* 6: api_key, api-key, apikey; 20 or more; quotes included. */
	check("config: api_key: 'abcdefghij0123456789' done",
	    "config: [REDACTED] done");
	check("APIKEY=abcdefghij-_-_-_-_-_", "[REDACTED]");
	check("api-key = abcdefghij012345678", "api-key = abcdefghij012345678");
	check("x-api-key\t:\t\"ABCDEFGHIJ0123456789\"", "x-[REDACTED]");
	/* 7: access/auth token or bearer, with '.' and '=' in the value. */
	check("access_token=ya29.a0AfH6SMBx-abcdefghij==",
	    "[REDACTED]");
	check("{\"authToken\": \"abc.def.ghi-jkl_mno=pqrs\"}",
	    "{\"[REDACTED]}");
	check("Bearer: abcdefghij0123456789", "[REDACTED]");
	check("auth-token: short-one", "auth-token: short-one");
	/* 8: secret, password, passwd, pwd; 8+ characters, not bytes. */
	check("PWD = \"12345678\" rest", "[REDACTED] rest");
	check("passwd:abcdefgh", "[REDACTED]");
	check("client_secret='p@ss:w0rd!'", "client_[REDACTED]");
	check("password=\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9", "password=\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9");
	check("password=\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9 x", "[REDACTED] x");
	check("password=1234567", "password=1234567");
	check("the password is hunter2", "the password is hunter2");
	/* 10: key, secret, token, credential; 40+ base64, up to two '='. */
	check("token: \"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZn===\"",
	    "[REDACTED]=\"");
	check("credential=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZn+/",
	    "[REDACTED]");
	check("ssh key: QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmN",
	    "ssh key: QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmN");
	/* Unicode blanks count as \s, as in Rust. */
	check("api_key\xc2\xa0=\xe2\x80\x83" "abcdefghij0123456789",
	    "[REDACTED]");
	/* Each pattern runs on the previous one's output. */
	check("pwd=ab bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
	    "pwd=ab [REDACTED]");
	/* Here the api_key mask makes the password long enough. */
	check("pwd=aapikey = abcdefghij0123456789", "[REDACTED]");
	check("password=sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
	    "[REDACTED]");
}

/* 9: bearer tokens, and words that merely follow "bearer". */
static void
test_bearer(void **state)
{
	check("the bearer of bad news", "the bearer of bad news");
	check("Bearer bonds were the bearer instruments",
	    "Bearer bonds were the bearer instruments");
	check("bearer internationalization", "bearer internationalization");
	check("curl -H 'Authorization: Bearer abc' x",
	    "curl -H 'Authorization: [REDACTED]' x");
	check("authorization=\"bearer t0k\"", "authorization=\"[REDACTED]\"");
	check("sent bearer dGhpcyBpcyBhIHRva2Vu now",
	    "sent [REDACTED] now");
	check("BEARER\xe2\x80\x83" "0123456789abcdef", "[REDACTED]");
	check("token type bearer abcdefghijklmnopqrstuvwx",
	    "token type bearer abcdefghijklmnopqrstuvwx");
	check("bearer ABCDEF-GHIJKLMNOP", "[REDACTED]");
	check("bearer", "bearer");
	check("Bearer ", "Bearer ");
}

/* 11-13. */
static void
test_pem_github_slack(void **state)
{
	/* 11 catches headers the block rule does not (Unicode blanks). */
	check("x -----BEGIN PRIVATE\xe2\x80\x83KEY----- y", "x [REDACTED] y");
	check("-----BEGIN CERTIFICATE-----", "-----BEGIN CERTIFICATE-----");
	/* 12: gh[pousr]_ and 36 or more of [A-Za-z0-9_]. */
	check("gho_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789_x", "[REDACTED]");
	check("u=ghs_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345678 ",
	    "u=ghs_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345678 ");
	check("ghu_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "[REDACTED]");
	check("ghr_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "[REDACTED]");
	check("ghx_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
	    "ghx_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789");
	/* 13. */
	check("xoxb-1234567890-1234567890-abcdefghijklmnopqrstuvwx.",
	    "[REDACTED].");
	check("xoxp-123456789-1234567890-abcdefghijklmnopqrstuvwx",
	    "xoxp-123456789-1234567890-abcdefghijklmnopqrstuvwx");
	check("xoxz-1234567890-1234567890-abcdefghijklmnopqrstuvwx",
	    "xoxz-1234567890-1234567890-abcdefghijklmnopqrstuvwx");
}

/* Ours: OpenAI project, service-account and admin keys on their own. */
static void
test_sk_proj(void **state)
{
	check("key sk-proj-AbCdEfGhIj_0123456789-xyz in use",
	    "key [REDACTED] in use");
	check("sk-svcacct-AbCdEfGhIj0123456789", "[REDACTED]");
	check("sk-admin-AbCdEfGhIj0123456789", "[REDACTED]");
	check("sk-proj-AbCdEfGhIj012345678", "sk-proj-AbCdEfGhIj012345678");
	check("sk-projects-are-fun", "sk-projects-are-fun");
}

/* Ours: every line of a PEM private key, across lines. */
static void
test_pem_block(void **state)
{
	static const char *const in[] = {
		"loading key",
		"  -----BEGIN OPENSSH PRIVATE KEY-----",
		"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAA",
		"",
		"AAtzc2gtZWQyNTUxOQAAACDNz3nl+xMOK2mYq1ty7qXbpS0jxiEX",
		"-----END OPENSSH PRIVATE KEY----- "
		    "sk-ant-api03-abcdefghijklmnopqrstuvw",
		"done, next -----BEGIN CERTIFICATE-----",
		"MIIBszCCAVmgAwIBAgIUQ",
		"-----END CERTIFICATE-----",
		NULL
	};
	static const char *const want[] = {
		"loading key",
		"  [REDACTED]",
		"[REDACTED]",
		"[REDACTED]",
		"[REDACTED]",
		"[REDACTED] [REDACTED]",
		"done, next -----BEGIN CERTIFICATE-----",
		"MIIBszCCAVmgAwIBAgIUQ",
		"-----END CERTIFICATE-----",
		NULL
	};
	struct redactor	*r;

	r = redact_new();
	assert_non_null(r);
	check_lines(r, in, want);
	redact_free(r);

	/* Both markers on one line: a key in a JSON string. */
	check("{\"k\":\"-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIB\\n-----END "
	    "EC PRIVATE KEY-----\\n\",\"n\":1}",
	    "{\"k\":\"[REDACTED]\\n\",\"n\":1}");
	check("a -----BEGIN PRIVATE KEY-----x-----END PRIVATE KEY----- b "
	    "-----BEGIN ENCRYPTED PRIVATE KEY----- c",
	    "a [REDACTED] b [REDACTED]");
	check("-----BEGIN PGP PRIVATE KEY BLOCK-----", "[REDACTED]");
	check("-----BEGIN RSA PUBLIC KEY-----",
	    "-----BEGIN RSA PUBLIC KEY-----");
}

/* A block without END stops after REDACT_PEM_MAX_LINES; reset stops it. */
static void
test_pem_unterminated(void **state)
{
	struct redactor	*r;
	char		*got;

	r = redact_new();
	assert_non_null(r);
	free(red(r, "-----BEGIN DSA PRIVATE KEY-----", 31, NULL, NULL));
	pem_runs_out(r, "plain");

	free(red(r, "-----BEGIN PRIVATE KEY-----", 27, NULL, NULL));
	got = red(r, "MIIE", 4, NULL, NULL);
	assert_string_equal(got, "[REDACTED]");
	free(got);
	redact_reset(r);
	got = red(r, "after restart", 13, NULL, NULL);
	assert_string_equal(got, "after restart");
	free(got);
	redact_free(r);
}

/* Ours: exact values the daemon injected. */
static void
test_injected_values(void **state)
{
	struct redactor	*r;
	char		*got;
	size_t		 len;
	int		 changed;

	r = redact_new();
	assert_non_null(r);
	assert_int_equal(redact_add_value(r, "Zq9!x-Secret", 12), 0);
	assert_int_equal(redact_add_value(r, "Zq9!x-Secret", 12), 0);
	assert_int_equal(redact_add_value(r, "short", 5), 0);	/* ignored */
	assert_int_equal(redact_add_value(r, "", 0), 0);

	got = red(r, "v=Zq9!x-Secret and Zq9!x-Secret;", 32, &len, &changed);
	assert_string_equal(got, "v=[REDACTED] and [REDACTED];");
	assert_int_equal(count(got, len, "[REDACTED]"), 2);
	free(got);
	/* Back to back: one mask. */
	got = red(r, "Zq9!x-SecretZq9!x-Secret", 24, NULL, NULL);
	assert_string_equal(got, "[REDACTED]");
	free(got);
	got = red(r, "a short Zq9!x-Secre", 19, NULL, &changed);
	assert_int_equal(changed, 0);
	free(got);

	/* Overlapping values merge, so no fragment of either shows. */
	assert_int_equal(redact_add_value(r, "abcdef-123456", 13), 0);
	assert_int_equal(redact_add_value(r, "123456-ghijkl", 13), 0);
	got = red(r, "<abcdef-123456-ghijkl>", 22, NULL, NULL);
	assert_string_equal(got, "<[REDACTED]>");
	free(got);

	/* Multi-line values: each line on its own; CR dropped. */
	assert_int_equal(redact_add_value(r, "line-one-xx\r\nline-two-yy\nz",
	    26), 0);
	got = red(r, "[line-one-xx] [line-two-yy] z", 29, NULL, NULL);
	assert_string_equal(got, "[[REDACTED]] [[REDACTED]] z");
	free(got);

	/* Values with NUL bytes, and a value shorter than the others. */
	assert_int_equal(redact_add_value(r, "n\0l\0n\0", 6), 0);
	got = red(r, "x n\0l\0n\0 y", 10, &len, NULL);
	assert_int_equal(len, 14);
	assert_memory_equal(got, "x [REDACTED] y", 14);
	free(got);
	got = red(r, "v=Zq9!x-Secret", 14, NULL, NULL);
	assert_string_equal(got, "v=[REDACTED]");
	free(got);
	/* The value first, then the patterns: no leftover fragment. */
	assert_int_equal(redact_add_value(r, "pfx-sk-ant-api03-abcdefghij"
	    "klmnopqrstu", 38), 0);
	got = red(r, "pfx-sk-ant-api03-abcdefghijklmnopqrstu", 38, NULL, NULL);
	assert_string_equal(got, "[REDACTED]");
	free(got);
	redact_free(r);

	/* Disabled: nothing changes. */
	r = redact_new();
	assert_non_null(r);
	assert_int_equal(redact_add_value(r, "hunter2hunter2", 14), 0);
	redact_set_enabled(r, 0);
	got = red(r, "password=hunter2hunter2", 23, NULL, &changed);
	assert_int_equal(changed, 0);
	free(got);
	redact_set_enabled(r, 1);
	got = red(r, "pw hunter2hunter2", 17, NULL, NULL);
	assert_string_equal(got, "pw [REDACTED]");
	free(got);
	redact_free(r);
}

/* REDACT_VALUES_MAX values, then E2BIG; all of them still masked. */
static void
test_many_values(void **state)
{
	struct redactor	*r;
	char		 v[32], line[64], *got;
	int		 i;

	r = redact_new();
	assert_non_null(r);
	for (i = 0; i < REDACT_VALUES_MAX; i++) {
		snprintf(v, sizeof(v), "val-%06d-%d", i, i * 7919);
		assert_int_equal(redact_add_value(r, v, strlen(v)), 0);
	}
	errno = 0;
	assert_int_equal(redact_add_value(r, "one-too-many", 12), -1);
	assert_int_equal(errno, E2BIG);
	/* A known value is not "one more". */
	assert_int_equal(redact_add_value(r, "val-000000-0", 12), 0);
	for (i = 0; i < REDACT_VALUES_MAX; i += 37) {
		snprintf(v, sizeof(v), "val-%06d-%d", i, i * 7919);
		snprintf(line, sizeof(line), "(%s)", v);
		got = red(r, line, strlen(line), NULL, NULL);
		assert_string_equal(got, "([REDACTED])");
		free(got);
	}
	redact_free(r);
}

/* §5.3 sensitive names, and redact_add_env(). */
static void
test_env_names(void **state)
{
	static const char *const yes[] = {
		"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "AWS_SECRET_ACCESS_KEY",
		"MY_SECRET_TOKEN", "password", "GITHUB_TOKEN", "GH_TOKEN",
		"gh_token", "my-api-key", "XApiKeyX", "db_Password",
		"CLIENT_CREDENTIALS", "claude_config_dir", "AWS_REGION",
		"Google_Project", "openai_org", "refresh_token", NULL
	};
	static const char *const no[] = {
		"PATH", "HOME", "RUST_LOG", "AWS", "GITHUB", "GH_TOKE", "KEY",
		"API_KEYS_X"[0] == 'A' ? "APIKE" : "", "MY_ANTHROPIC_X",
		"PASSWD", "", NULL
	};
	struct redactor	*r;
	char		*got;
	size_t		 i;

	for (i = 0; yes[i] != NULL; i++)
		if (!redact_env_name_sensitive(yes[i]))
			fail_msg("%s should be sensitive", yes[i]);
	for (i = 0; no[i] != NULL; i++)
		if (redact_env_name_sensitive(no[i]))
			fail_msg("%s should not be sensitive", no[i]);

	r = redact_new();
	assert_non_null(r);
	assert_int_equal(redact_add_env(r, "ANTHROPIC_API_KEY", "ak-123456"),
	    0);
	assert_int_equal(redact_add_env(r, "PATH", "/usr/bin:/bin"), 0);
	got = red(r, "ak-123456 /usr/bin:/bin", 23, NULL, NULL);
	assert_string_equal(got, "[REDACTED] /usr/bin:/bin");
	free(got);
	redact_free(r);
}

/* Expected outputs from an independent regex implementation. */
static void
test_generated_vectors(void **state)
{
	check_vec(generated, sizeof(generated) / sizeof(generated[0]));
}

/* Binary data and invalid UTF-8 around secrets. */
static void
test_binary(void **state)
{
	static const char in[] = "\0\xff\xfe sk-ant-api03-abcdefghijklmnopqrst"
	    "\0\x80 password=\xff\xff\xff\xff\xff\xff\xff\xff\0\tok\xc3";
	/* NUL is no blank: it belongs to the password. */
	static const char want[] = "\0\xff\xfe [REDACTED]\0\x80 [REDACTED]"
	    "\tok\xc3";
	struct redactor	*r;
	char		*got;
	size_t		 len;

	r = redact_new();
	assert_non_null(r);
	got = red(r, in, sizeof(in) - 1, &len, NULL);
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(got, want, len);
	free(got);
	/* Seven invalid bytes are seven characters: too short for 8. */
	got = red(r, "pwd=\xff\xff\xff\xff\xff\xff\xff", 11, &len, NULL);
	assert_memory_equal(got, "pwd=\xff\xff\xff\xff\xff\xff\xff", 11);
	free(got);
	redact_free(r);
}

/* A 1 MiB line: secrets at the start, in the middle, at the end. */
static void
test_long_line(void **state)
{
	const char	*k = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz";
	size_t		 n = 1 << 20, kl = strlen(k), len;
	struct redactor	*r;
	char		*line, *got;

	line = malloc(n);
	assert_non_null(line);
	memset(line, 'a', n);
	memset(line + 1000, ' ', n - 2000);
	memcpy(line, k, kl);
	memcpy(line + n / 2, k, kl);
	line[n / 2 - 1] = ' ';
	line[n / 2 + kl] = ' ';
	memcpy(line + n - kl, k, kl);
	line[n - kl - 1] = ' ';
	r = redact_new();
	assert_non_null(r);
	assert_int_equal(redact_add_value(r, "aaaaaaaaaaaa", 12), 0);
	got = red(r, line, n, &len, NULL);
	assert_int_equal(count(got, len, "[REDACTED]"), 5);
	assert_false(contains(got, len, "sk-ant", 6));
	assert_false(contains(got, len, "aaaaaaaaaaaa", 12));
	free(got);
	redact_free(r);
	free(line);
}

/* Random bytes: no crash, and no injected value survives. */
static void
test_random_bytes(void **state)
{
	static const char *const vals[] = { "rAnD0m-V4lue", "Zz-9_8.7:6",
	    "0123456789abcdef0123" };
	static const char	 alpha[] = "aAkKey=: \t\"'-_sSbB[]\xc2\xa0\xff";
	struct redactor		*r;
	char			 line[600], *got;
	size_t			 n, i, v, at, len;
	int			 iter;

	rng_seed(42);
	r = redact_new();
	assert_non_null(r);
	for (v = 0; v < 3; v++)
		assert_int_equal(redact_add_value(r, vals[v],
		    strlen(vals[v])), 0);
	for (iter = 0; iter < 20000; iter++) {
		n = rng() % sizeof(line);
		for (i = 0; i < n; i++)
			line[i] = iter % 2 == 0 ? (char)rng() :
			    alpha[rng() % (sizeof(alpha) - 1)];
		for (v = 0; v < 3; v++) {
			if (rng() % 2 == 0 || n < 40)
				continue;
			at = rng() % (n - strlen(vals[v]));
			memcpy(line + at, vals[v], strlen(vals[v]));
		}
		got = red(r, line, n, &len, NULL);
		for (v = 0; v < 3; v++)
			if (contains(got, len, vals[v], strlen(vals[v])))
				fail_msg("iteration %d leaks value %zu", iter,
				    v);
		free(got);
	}
	redact_free(r);
}

/* Long runs of one trigger: right answers, and no quadratic blowup. */
static void
test_repetitive(void **state)
{
	static const struct {
		const char	*unit;
		size_t		 masks;		/* "[REDACTED]" per unit */
		size_t		 whole;		/* or in all */
	} t[] = {
		{ "AKIAAKIAAKIAAKIAAKIA", 1, 0 },
		{ "AIzaAIzaAIzaAIzaAIzaAIzaAIzaAIzaAIzaAIza", 1, 0 },
		{ "key=", 0, 0 }, { "sk-", 0, 0 }, { ":", 0, 0 },
		{ "-", 0, 0 }, { "bearer ", 0, 0 }, { "token=", 0, 0 },
		{ "\xe2\x80\x83", 0, 0 }, { "xoxb-1234567890-", 0, 0 },
		{ "gho_", 0, 1 },	/* one match, to the end */
	};
	struct redactor	*r;
	char		*line, *got;
	size_t		 n = 1 << 18, i, k, ul, len;

	line = malloc(n);
	assert_non_null(line);
	r = redact_new();
	assert_non_null(r);
	for (k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		ul = strlen(t[k].unit);
		for (i = 0; i + ul <= n; i += ul)
			memcpy(line + i, t[k].unit, ul);
		got = red(r, line, i, &len, NULL);
		assert_int_equal(count(got, len, "[REDACTED]"),
		    t[k].whole != 0 ? t[k].whole : t[k].masks * (i / ul));
		free(got);
	}
	/* "awssecretaccesskey=" is all in the value class of pattern 5. */
	for (i = 0; i + 19 <= n; i += 19)
		memcpy(line + i, "awssecretaccesskey=", 19);
	got = red(r, line, i, &len, NULL);
	assert_true(count(got, len, "[REDACTED]") > 1000);
	free(got);
	redact_free(r);
	free(line);
}

/* Feeding any way the bytes are split gives the same lines. */
static void
test_feed_splits(void **state)
{
	static const char	 in[] =
	    "first line\n"
	    "export ANTHROPIC_API_KEY=sk-ant-api03-abcdefghijklmnopqrstuvwxyz\n"
	    "\n"
	    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n"
	    "-----END RSA PRIVATE KEY-----\n"
	    "my value is Inj3cted-Val! ok\n"
	    "tail without newline";
	static const char	 want[] =
	    "first line\n"
	    "export ANTHROPIC_API_KEY=[REDACTED]\n"
	    "\n"
	    "[REDACTED]\n[REDACTED]\n[REDACTED]\n"
	    "my value is [REDACTED] ok\n"
	    "tail without newline|";
	struct redactor		*r;
	struct sink		 s;
	size_t			 off, k;
	int			 iter;

	rng_seed(7);
	for (iter = 0; iter < 300; iter++) {
		memset(&s, 0, sizeof(s));
		r = redact_new();
		assert_non_null(r);
		assert_int_equal(redact_add_value(r, "Inj3cted-Val!", 13), 0);
		for (off = 0; off < sizeof(in) - 1; off += k) {
			/* Byte by byte, then random chunks. */
			k = iter == 0 ? 1 : 1 + rng() % 40;
			if (k > sizeof(in) - 1 - off)
				k = sizeof(in) - 1 - off;
			assert_int_equal(redact_feed(r, in + off, k, sink_emit,
			    &s), 0);
		}
		assert_int_equal(redact_pending(r), 20);
		redact_feed_end(r, sink_emit, &s);
		assert_int_equal(redact_pending(r), 0);
		if (s.len != sizeof(want) - 1 ||
		    memcmp(s.buf, want, s.len) != 0)
			fail_msg("iteration %d: got \"%.*s\"", iter,
			    (int)s.len, s.buf);
		sink_free(&s);
		redact_free(r);
	}
}

/* Lines over REDACT_LINE_MAX are cut, at a blank when there is one. */
static void
test_feed_long_lines(void **state)
{
	struct redactor	*r;
	struct sink	 s;
	size_t		 n = 3 * REDACT_LINE_MAX + 100, i, off, k;
	char		*in;
	int		 pass;

	in = malloc(n + REDACT_LINE_MAX + 2);
	assert_non_null(in);
	for (pass = 0; pass < 2; pass++) {
		/* No blank at all: hard cuts at exactly REDACT_LINE_MAX. */
		memset(in, 'x', n);
		if (pass == 1)
			for (i = 0; i < n; i += 100)
				in[i] = ' ';
		in[n] = '\n';
		memset(in + n + 1, 'y', REDACT_LINE_MAX);
		in[n + 1 + REDACT_LINE_MAX] = '\n';
		memset(&s, 0, sizeof(s));
		r = redact_new();
		assert_non_null(r);
		/* Pass 0 whole, pass 1 in 1000-byte chunks (pending path). */
		for (off = 0; off < n + REDACT_LINE_MAX + 2; off += k) {
			k = pass == 0 ? n + REDACT_LINE_MAX + 2 : 1000;
			if (k > n + REDACT_LINE_MAX + 2 - off)
				k = n + REDACT_LINE_MAX + 2 - off;
			assert_int_equal(redact_feed(r, in + off, k, sink_emit,
			    &s), 0);
		}
		assert_int_equal(s.maxlen, REDACT_LINE_MAX);
		assert_int_equal(s.ncut, 3);
		assert_int_equal(s.nlines, 5);
		/* Every byte arrives, in order. */
		assert_int_equal(s.len, n + REDACT_LINE_MAX + 2 + s.ncut);
		for (i = 0, off = 0; i < s.len; i++) {
			if (s.buf[i] == '|')
				continue;
			assert_int_equal(s.buf[i], in[off]);
			off++;
		}
		assert_int_equal(off, n + REDACT_LINE_MAX + 2);
		if (pass == 1) {
			/* Cut right after a blank. */
			assert_int_equal(s.buf[s.len - REDACT_LINE_MAX - 2],
			    '\n');
			assert_non_null(memchr(s.buf, '|',
			    REDACT_LINE_MAX + 1));
			assert_int_equal(((char *)memchr(s.buf, '|',
			    REDACT_LINE_MAX + 1))[-1], ' ');
		}
		sink_free(&s);
		redact_free(r);
	}
	free(in);
}

/* A secret split across write()s inside one line is still masked. */
static void
test_feed_split_secret(void **state)
{
	static const char	*parts[] = { "tok ghp_aBcDeFgHiJkL", "mNoPqRsT",
	    "uVwXyZ0123456789 end\nnext sk-", "ant-api03-", "abcdefghijklm",
	    "nopqrstuvwxyz\n" };
	struct redactor		*r;
	struct sink		 s;
	size_t			 i;

	memset(&s, 0, sizeof(s));
	r = redact_new();
	assert_non_null(r);
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		assert_int_equal(redact_feed(r, parts[i], strlen(parts[i]),
		    sink_emit, &s), 0);
	assert_int_equal(s.nlines, 2);
	assert_int_equal(s.len,
	    strlen("tok [REDACTED] end\nnext [REDACTED]\n"));
	assert_memory_equal(s.buf, "tok [REDACTED] end\nnext [REDACTED]\n",
	    s.len);
	sink_free(&s);
	redact_free(r);
}

/* redact_pem_first: which private-key marker a line shows first. */
static void
test_pem_first(void **state)
{
	static const struct {
		const char	*line;
		int		 want;
	} v[] = {
		{ "no marker here", 0 },
		{ "-----BEGIN RSA PRIVATE KEY-----", REDACT_PEM_BEGIN },
		{ "  -----BEGIN OPENSSH PRIVATE KEY----- x", REDACT_PEM_BEGIN },
		{ "-----END PRIVATE KEY-----", REDACT_PEM_END },
		{ "-----END EC PRIVATE KEY----- -----BEGIN PRIVATE KEY-----",
		    REDACT_PEM_END },
		{ "-----BEGIN PRIVATE KEY-----abc-----END PRIVATE KEY-----",
		    REDACT_PEM_BEGIN },
		/* not private keys, or malformed */
		{ "-----BEGIN CERTIFICATE-----", 0 },
		{ "-----END CERTIFICATE-----", 0 },
		{ "-----BEGIN PUBLIC KEY-----", 0 },
		{ "-----BEGINPRIVATE KEY-----", 0 },
		{ "-----END private key-----", 0 },
		{ "-----END PRIVATE KEY----", 0 },
		{ "-----END PRIVATEKEY-----", 0 },
		{ "", 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (redact_pem_first(v[i].line, strlen(v[i].line)) != v[i].want)
			fail_msg("\"%s\": got %d", v[i].line,
			    redact_pem_first(v[i].line, strlen(v[i].line)));
	/* Bytes after the length do not count. */
	assert_int_equal(redact_pem_first("-----END PRIVATE KEY-----", 20), 0);
}

/* A stream picked up inside a key: masked through its END marker. */
static void
test_pem_assume_open(void **state)
{
	static const char *const in[] = {
		"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
		"",
		"tail -----END PRIVATE KEY----- after",
		"plain line",
		NULL
	};
	static const char *const want[] = {
		"[REDACTED]",
		"[REDACTED]",
		"[REDACTED] after",
		"plain line",
		NULL
	};
	struct redactor	*r;

	r = redact_new();
	assert_non_null(r);
	redact_pem_assume_open(r);
	check_lines(r, in, want);
	/* Without an END it stops after REDACT_PEM_MAX_LINES lines. */
	redact_reset(r);
	redact_pem_assume_open(r);
	pem_runs_out(r, "abc");
	redact_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upstream_examples),
		cmocka_unit_test(test_upstream_pins),
		cmocka_unit_test(test_prefix_patterns),
		cmocka_unit_test(test_keyword_patterns),
		cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_pem_github_slack),
		cmocka_unit_test(test_sk_proj),
		cmocka_unit_test(test_pem_block),
		cmocka_unit_test(test_pem_unterminated),
		cmocka_unit_test(test_injected_values),
		cmocka_unit_test(test_many_values),
		cmocka_unit_test(test_env_names),
		cmocka_unit_test(test_generated_vectors),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_repetitive),
		cmocka_unit_test(test_feed_splits),
		cmocka_unit_test(test_feed_long_lines),
		cmocka_unit_test(test_feed_split_secret),
		cmocka_unit_test(test_pem_first),
		cmocka_unit_test(test_pem_assume_open),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
