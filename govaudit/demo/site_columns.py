"""The demo bureau's columns and articles for one anchor date and revision, with the planted
defects' data (which article lacks alt text or a language, shows a wrong 标识码 …). Data
only: knows nothing of page templates, HTTP or the DNS zone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from govaudit.demo.site_data import (
    SITE_NAME,
    STATIC,
    WRONG_SITE_ID,
    Column,
    Entry,
    _e,
    add_workdays,
    plain_monday,
)


class BureauColumns:
    """Every column and article of the demo site for one anchor date and revision (not its
    pages: :class:`govaudit.demo.site.DemoContent` renders them).

    ``published`` lists, in the order they are rendered, the columns whose articles become
    pages, each with its per-article layout overrides (planted defects); ``gbk`` names the
    articles served as GBK bytes, with their charset variant.
    """

    def __init__(self, anchor: date, revision: int, url: Callable[[str, str], str]) -> None:
        self.anchor = anchor
        self.revision = revision
        self.url = url
        self.columns: dict[str, Column] = {}
        self.named: dict[str, str] = {}  # planted page name → path (expected.json's {p:NAME})
        self.published: list[tuple[Column, dict[str, dict] | None]] = []
        self.gbk: dict[str, str] = {}  # article path → charset variant
        self._build()

    # ------------------------------------------------------------ helpers

    def ago(self, days: int) -> date:
        return self.anchor - timedelta(days=days)

    def art_path(self, col: str, d: date | None, n: int) -> str:
        if d is None:
            return f"{col}art_{1000 + n}.html"
        return f"{col}{d:%Y%m}/t{d:%Y%m%d}_{n}.html"

    def add_column(self, col: Column) -> Column:
        self.columns[col.path] = col
        return col

    def publish(self, col: Column, overrides: dict[str, dict] | None = None) -> None:
        """The column's articles become pages, with ``overrides`` (path → layout keywords)."""
        self.published.append((col, overrides))

    # ------------------------------------------------------------ the content

    def _build(self) -> None:
        a = self.ago
        u = self.url
        p = lambda text: f"<p>{text}</p>"  # noqa: E731

        # 工作动态: stale (newest 20 days ago), 22 entries over three pages.
        gzdt_titles = [
            "市局召开国土空间规划编制工作推进会",
            "市局开展耕地保护专项督查",
            "市局组织开展地质灾害隐患点排查",
            "不动产登记“一窗受理”改革再提速",
            "市局召开党风廉政建设工作会议",
            "市局举办自然资源执法业务培训班",
            "国土调查成果共享应用工作有序推进",
            "市局开展“世界地球日”主题宣传活动",
            "市局赴临川区调研乡村振兴用地保障工作",
            "市局召开矿山生态修复工作调度会",
            "市局组织收看全省自然资源系统视频会议",
            "市局开展测绘地理信息市场专项检查",
            "市局召开重点项目用地保障工作会",
            "全市自然资源系统安全生产工作会议召开",
            "市局开展“土地日”普法宣传",
            "市局推进历史遗留不动产登记问题化解",
            "市局召开耕地保护目标责任考核会议",
            "市局开展地质灾害应急演练",
            "市局召开国土空间生态修复规划评审会",
            "市局开展政务服务“好差评”工作培训",
            "市局召开第一季度重点工作调度会",
            "市局开展林长制工作督导",
        ]
        gzdt = self.add_column(
            Column("/xwzx/gzdt/", "工作动态", "政务动态", "iso", intro="市局工作动态")
        )
        for i, title in enumerate(gzdt_titles):
            d = a(20 + 5 * i)
            body = p(f"{d.month}月{d.day}日，{title.removeprefix('市局')}。") + p(
                "会议要求，各科室、单位要提高政治站位，压实工作责任，确保各项任务落地见效。"
            )
            gzdt.entries.append(Entry(title, self.art_path(gzdt.path, d, 3100 + i), d, body))
        # Planted a11y.image-alt (fixed in revision 2), and a broken image on the static host.
        e0, e1, e2 = gzdt.entries[0], gzdt.entries[1], gzdt.entries[2]
        alt = ' alt="会议现场"' if self.revision == 2 else ""
        e0.body += f'<p><img src="/images/news/huiyi.png" width="320" height="200"{alt}></p>'
        e1.body += (
            f'<p><img src="{u(STATIC, "/images/2025/ducha-01.png")}" width="320" height="200" '
            'alt="督查现场"></p>'
        )
        e2.body += (
            f'<p><img src="{u(STATIC, "/images/2025/paicha-missing.png")}" width="320" '
            'height="200" alt="排查现场"></p>'
        )
        self.named |= {
            "gzdt_image_alt": e0.path,
            "gzdt_image_ok": e1.path,
            "gzdt_broken_image": e2.path,
        }
        self.named["gzdt_plain"] = gzdt.entries[5].path
        self.publish(gzdt)

        # 基层动态: fresh, [MM-DD] dates (year implied).
        jcdt = self.add_column(Column("/xwzx/jcdt/", "基层动态", "政务动态", "md"))
        jc = [
            (1, "临川区分局开展耕地“非农化”排查"),
            (3, "东乡分局完成集体土地所有权确权登记成果更新"),
            (6, "崇仁分局召开不动产登记便民服务座谈会"),
            (9, "南城分局开展矿产资源执法巡查"),
            (13, "资溪分局推进国土绿化工作"),
            (18, "金溪分局开展地质灾害防治知识宣传"),
        ]
        for i, (days, title) in enumerate(jc):
            d = a(days)
            jcdt.entries.append(
                Entry(
                    title,
                    self.art_path(jcdt.path, d, 4100 + i),
                    d,
                    p(f"近日，{title}。") + p("下一步，分局将持续加强监管，巩固工作成效。"),
                    source="临川市自然资源和规划局基层分局",
                )
            )
        self.named["jcdt_new_rev2"] = self.art_path(jcdt.path, a(2), 4199)
        if self.revision == 2:
            d = a(2)
            jcdt.entries.append(
                Entry(
                    "黎川分局开展自然资源领域安全生产大检查",
                    self.named["jcdt_new_rev2"],
                    d,
                    p("近日，黎川分局开展自然资源领域安全生产大检查。")
                    + '<p>附件：<a href="/uploads/jcdt/anquan-jiancha.docx">检查情况汇总表.docx</a></p>',
                )
            )
        # Planted a11y.html-has-lang on one article.
        self.named |= {"jcdt_fresh": jcdt.entries[0].path, "jcdt_nolang": jcdt.entries[2].path}
        self.publish(jcdt, {jcdt.entries[2].path: {"lang": False}})

        # 通知公告: stale (newest 200 days ago); one links to a soft-404.
        tzgg = self.add_column(Column("/tzgg/", "通知公告", "通知公告", "iso"))
        tz = [
            (200, "关于开展2026年度地质灾害防治工作的通知"),
            (230, "关于公布测绘资质复审换证结果的公告"),
            (260, "关于做好不动产登记窗口延时服务的通知"),
            (300, "关于征集国土空间规划宣传作品的通知"),
            (340, "关于调整不动产登记收费标准的公告"),
        ]
        for i, (days, title) in enumerate(tz):
            d = a(days)
            title = title.replace("2026", str(d.year))
            tzgg.entries.append(
                Entry(
                    title,
                    self.art_path(tzgg.path, d, 5100 + i),
                    d,
                    p(f"{title}，请各单位遵照执行。"),
                )
            )
        tzgg.entries[
            1
        ].body += '<p>原文链接：<a href="/tzgg/old/t20190312_88.html">测绘资质复审换证结果（原文）</a></p>'
        tzgg.entries[
            0
        ].body += '<p>附件：<a href="/uploads/tzgg/dzzh-fangzhi.pdf">地质灾害防治方案.pdf</a></p>'
        # Planted for the text audits: a wording error in a page (W01), a 公示 roster attachment
        # with a full ID number and mobile (P01, P02), and a masked list that must stay silent.
        tzgg.entries[2].body += p(
            "深入学习贯彻习近平近新时代中国特色社会主义思想，持续优化不动产登记营商环境。"
        )
        tzgg.entries[
            3
        ].body += '<p>附件：<a href="/uploads/tzgg/huojiang-mingdan.xlsx">获奖作者名单.xlsx</a></p>'
        tzgg.entries[4].body += (
            "<p>收费标准调整后首批办理人员名单（已隐去个人敏感信息）：</p><table>"
            "<tr><th>姓名</th><th>身份证号码</th><th>联系电话</th></tr>"
            "<tr><td>黄志明</td><td>3610**********1232</td><td>139****1234</td></tr>"
            "<tr><td>吴丽萍</td><td>3610**********4569</td><td>158****5678</td></tr></table>"
        )
        self.named |= {
            "tzgg_soft404_source": tzgg.entries[1].path,
            "tzgg_newest": tzgg.entries[0].path,
            "tzgg_wording": tzgg.entries[2].path,
            "tzgg_roster": tzgg.entries[3].path,
            "tzgg_masked": tzgg.entries[4].path,
        }
        self.publish(tzgg)

        # 政策文件 and 政策解读 with planted timing defects (working days).
        zcwj = self.add_column(Column("/zcwj/", "政策文件", "政策文件", "cn"))
        zcjd = self.add_column(Column("/zcjd/", "政策解读", "解读回应", "slash"))
        m_late = plain_monday(a(60))
        m_ok = plain_monday(a(120))
        policies = [
            # (date, title, 文号, interpretation date or None, key)
            (
                a(45),
                "临川市自然资源和规划局关于进一步规范不动产登记工作的通知",
                "临自然资规〔{y}〕3号",
                a(45),
                "ontime",
            ),
            (
                m_late,
                "临川市国土空间规划管理办法",
                "临自然资规〔{y}〕2号",
                add_workdays(m_late, 5),
                "late",
            ),
            (
                a(90),
                "临川市自然资源和规划局关于加强耕地保护和改进占补平衡的实施意见",
                "临自然资发〔{y}〕15号",
                None,
                "missing",
            ),
            (
                m_ok,
                "临川市矿产资源开发利用管理规定",
                "临自然资规〔{y}〕1号",
                add_workdays(m_ok, 2),
                "ok2",
            ),
        ]
        self.policy_paths: dict[str, str] = {}
        self.interp_paths: dict[str, str] = {}
        for i, (d, title, doc_no, jd_day, key) in enumerate(policies):
            path = self.art_path(zcwj.path, d, 6100 + i)
            self.policy_paths[key] = path
            body = p(f"文号：{doc_no.format(y=d.year)}") + p(
                f"成文日期：{d.year}年{d.month}月{d.day}日"
            )
            body += p(f"现将《{title}》印发给你们，请认真贯彻执行。")
            body += f'<p>附件：<a href="/uploads/zcwj/{key}.pdf">{_e(title)}（全文）.pdf</a></p>'
            if jd_day is not None:
                jd_path = self.art_path(zcjd.path, jd_day, 6200 + i)
                self.interp_paths[key] = jd_path
                body += f'<p>相关解读：<a href="{jd_path}">《{_e(title)}》政策解读</a></p>'
                zcjd.entries.append(
                    Entry(
                        f"《{title}》政策解读",
                        jd_path,
                        jd_day,
                        p(f"一、出台背景。为贯彻落实上级部署，制定《{_e(title)}》。")
                        + p("二、主要内容。明确了职责分工、工作流程和保障措施。")
                        + f'<p>原文链接：<a href="{path}">{_e(title)}</a></p>',
                        source="政策法规组",
                    )
                )
            zcwj.entries.append(Entry(title, path, d, body, source="政策法规组"))
        self.publish(zcwj)
        self.named |= {f"policy_{k}": v for k, v in self.policy_paths.items()}
        self.named |= {f"interp_{k}": v for k, v in self.interp_paths.items()}
        # Planted a11y.color-contrast on one interpretation page.
        low = self.interp_paths["ok2"]
        for e in zcjd.entries:
            if e.path == low:
                e.body += '<p style="color:#b8b8b8">（本解读由政策法规组负责，咨询电话：0794-8261200）</p>'
        self.publish(zcjd)

        # 政府信息公开 and its parts (政府信息公开制度 deliberately missing).
        self.add_column(
            Column(
                "/zwgk/",
                "政府信息公开",
                "信息公开",
                None,
                intro="依据《中华人民共和国政府信息公开条例》设置",
            )
        )
        # Revision 4: the guide was last updated about two years ago.
        guide_day = a(730) if self.revision == 4 else a(24)
        self.guide_day = guide_day
        fd = self.add_column(
            Column("/zwgk/fdzdgknr/", "法定主动公开内容", "信息公开", None, parent="/zwgk/")
        )
        fgwj = self.add_column(
            Column("/zwgk/fdzdgknr/fgwj/", "法规规章规范性文件", "信息公开", "iso", parent=fd.path)
        )
        fgwj.entries = [Entry(e.title, e.path, e.day) for e in zcwj.entries]
        jgzn = self.add_column(
            Column("/zwgk/fdzdgknr/jgzn/", "机构职能", "信息公开", "iso", parent=fd.path)
        )
        for i, (days, title) in enumerate(
            [(100, "主要职责"), (150, "内设机构"), (300, "领导信息"), (420, "历史沿革")]
        ):
            d = a(days)
            jgzn.entries.append(
                Entry(
                    title,
                    self.art_path(jgzn.path, d, 7100 + i),
                    d,
                    p(f"{SITE_NAME}{title}。") + p("（根据机构改革方案，现予以公开。）"),
                )
            )
        by_title = {e.title: e.path for e in jgzn.entries}
        self.publish(
            jgzn,
            {
                by_title["内设机构"]: {"site_id_meta": WRONG_SITE_ID},  # identity.site_id_mismatch
                by_title["历史沿革"]: {"site_id_meta": None, "footer": "legacy"},  # site_id_missing
            },
        )
        self.named |= {"jgzn_wrong_id": by_title["内设机构"], "jgzn_legacy": by_title["历史沿革"]}
        self.named["jgzn_plain"] = by_title["主要职责"]

        ghxx = self.add_column(
            Column(
                "/zwgk/fdzdgknr/ghxx/", "规划信息", "信息公开", "iso", parent=fd.path, charset="gbk"
            )
        )
        gh = [
            (15, "临川市国土空间总体规划批前公示", "utf8"),
            (50, "临川市中心城区控制性详细规划修编公告", "gbk_meta_wrong"),
            (90, "临川高新区产业园修建性详细规划公示", "gbk_header_wrong"),
            (160, "临川市村庄规划编制工作方案", "gbk_none"),
        ]
        for i, (days, title, variant) in enumerate(gh):
            d = a(days)
            ghxx.entries.append(
                Entry(
                    title,
                    self.art_path(ghxx.path, d, 8100 + i),
                    d,
                    p(f"现将{title}有关事项公告如下。")
                    + p("公示期间，公众可通过来信、来电等方式提出意见和建议。"),
                )
            )
            self.named[f"ghxx_{variant}"] = ghxx.entries[-1].path
        ghxx.entries[
            0
        ].body += (
            '<p>附件：<a href="/uploads/2026/附件1：规划公示图.pdf">附件1：规划公示图.pdf</a></p>'
        )
        self.publish(ghxx)
        for e in ghxx.entries[1:]:
            self.gbk[e.path] = [v for _, t, v in gh if t == e.title][0]

        czyjs = self.add_column(
            Column("/zwgk/fdzdgknr/czyjs/", "财政预决算", "信息公开", "iso", parent=fd.path)
        )
        y = self.anchor.year
        czyjs.entries = [
            Entry(
                f"{SITE_NAME}{y - 1}年部门决算",
                self.art_path(czyjs.path, a(60), 9101),
                a(60),
                p("现将本局部门决算公开如下。")
                + '<p>附件：<a href="/uploads/czyjs/bmjs.xlsx">部门决算公开表.xlsx</a>　'
                '<a href="/uploads/czyjs/bmjs-shuoming.docx">决算说明.docx</a></p>',
            ),
            Entry(
                f"{SITE_NAME}{y}年部门预算",
                self.art_path(czyjs.path, a(150), 9102),
                a(150),
                p("现将本局部门预算公开如下。")
                + '<p>附件：<a href="/uploads/czyjs/bmys.xlsx">部门预算公开表.xlsx</a>　'
                '<a href="/uploads/czyjs/sangong-missing.xlsx">“三公”经费预算表.xlsx</a></p>',
            ),
        ]
        self.named |= {"czyjs_final": czyjs.entries[0].path, "czyjs_budget": czyjs.entries[1].path}
        self.publish(czyjs)

        xzzf = self.add_column(
            Column("/zwgk/fdzdgknr/xzzf/", "行政许可和行政处罚", "信息公开", "iso", parent=fd.path)
        )
        xzzf.entries = [
            Entry(
                "行政许可事项清单",
                self.art_path(xzzf.path, a(20), 9201),
                a(20),
                p("本局行政许可事项清单如下。")
                + '<p>附件：<a href="/uploads/xzzf/xuke-qingdan.zip">行政许可事项清单.zip</a></p>',
            ),
            Entry(
                "行政处罚裁量基准",
                self.art_path(xzzf.path, a(80), 9202),
                a(80),
                p("本局行政处罚裁量基准如下。"),
            ),
        ]
        self.publish(xzzf)

        self.add_column(
            Column("/zwgk/fdzdgknr/zdxm/", "重大建设项目", "信息公开", "iso", parent=fd.path)
        )  # blank

        rsxx = self.add_column(
            Column("/zwgk/fdzdgknr/rsxx/", "人事信息", "信息公开", None, parent=fd.path)
        )
        for i, title in enumerate(
            [
                "关于公开遴选公务员的公告",
                "公开招聘事业单位工作人员拟聘用人员公示",
                "局领导干部任职前公示",
            ]
        ):
            rsxx.entries.append(
                Entry(
                    title,
                    self.art_path(rsxx.path, None, i),
                    None,
                    p(f"{title}。") + p("公示期间如有异议，请向局人事部门反映。"),
                )
            )
        self.publish(rsxx)

        tdzs = self.add_column(
            Column("/zwgk/fdzdgknr/tdzs/", "土地征收", "信息公开", "iso", parent=fd.path)
        )
        tdzs.entries = [
            Entry(
                "临川区2026年第一批次城镇建设用地征收土地公告".replace("2026", str(a(10).year)),
                self.art_path(tdzs.path, a(10), 9301),
                a(10),
                "",
            ),
            Entry(
                "东乡区征地补偿安置方案公告",
                self.art_path(tdzs.path, a(35), 9302),
                a(35),
                p("现将征地补偿安置方案公告如下。"),
            ),
        ]
        tdzs.entries[0].body = p("现将征收土地有关事项公告如下。") + (
            '<p>附件：<a href="%E5%BE%81%E5%9C%B0%E5%85%AC%E5%91%8A%E9%99%84%E5%9B%BE.pdf">征地公告附图.pdf</a></p>'
        )
        self.named["tdzs_base_href"] = tdzs.entries[0].path
        self.publish(tdzs, {tdzs.entries[0].path: {"head_extra": f'<base href="{tdzs.path}">\n'}})

        nb = self.add_column(
            Column("/zwgk/nb/", "政府信息公开工作年度报告", "信息公开", "iso", parent="/zwgk/")
        )
        for yr in (y - 2, y - 3, y - 4):
            d = date(yr + 1, 1, 20)
            title = f"{SITE_NAME}{yr}年政府信息公开工作年度报告"
            nb.entries.append(
                Entry(
                    title,
                    self.art_path(nb.path, d, yr),
                    d,
                    p(
                        f"本报告根据《中华人民共和国政府信息公开条例》编制，统计期限为{yr}年1月1日至12月31日。"
                    )
                    + f'<p>附件：<a href="/uploads/nb/{yr}.pdf">{yr}年年度报告.pdf</a></p>',
                    source="综合组",
                )
            )
        self.named |= {
            f"nb_{y - yr}": e.path for yr, e in zip((y - 2, y - 3, y - 4), nb.entries, strict=True)
        }
        self.publish(nb)

        # 重点领域, 会议公开, 专题专栏.
        zdly = self.add_column(Column("/zdly/", "重点领域信息公开", "信息公开", "iso"))
        zdly.intro = "公共资源配置、建设项目用地批准、生态保护修复等领域信息"
        zdly.entries = [
            Entry(
                "临川市2026年度建设用地供应计划".replace("2026", str(a(8).year)),
                self.art_path(zdly.path, a(8), 9401),
                a(8),
                p("现将年度建设用地供应计划公布如下。"),
            ),
            Entry(
                "全市矿山生态修复项目进展情况",
                self.art_path(zdly.path, a(30), 9402),
                a(30),
                p("截至目前，全市矿山生态修复项目进展顺利。"),
            ),
            Entry(
                "建设项目用地预审与选址意见书办理结果公开",
                self.art_path(zdly.path, a(60), 9403),
                a(60),
                p("现将办理结果公开如下。"),
            ),
        ]
        self.publish(zdly)

        hygk = self.add_column(Column("/hygk/", "会议公开", "信息公开", "dot"))
        hygk.entries = [
            Entry(
                "市局召开局长办公会议研究国土空间规划工作",
                self.art_path(hygk.path, a(10), 9501),
                a(10),
                p("会议听取了国土空间规划编制进展情况汇报。")
                + '<p>分享：<a href="javascript:share(\'weixin\')" class="icon-weixin"></a></p>',
            ),
            Entry(
                "市局召开局长办公会议研究耕地保护工作",
                self.art_path(hygk.path, a(40), 9502),
                a(40),
                p("会议研究部署耕地保护重点工作。"),
            ),
            Entry(
                "市局召开局长办公会议研究不动产登记工作",
                self.art_path(hygk.path, a(70), 9503),
                a(70),
                p("会议研究不动产登记便民措施。"),
            ),
        ]
        self.named |= {"hygk_link_name": hygk.entries[0].path, "hygk_plain": hygk.entries[1].path}
        self.publish(hygk)

        ztzl = self.add_column(Column("/ztzl/", "专题专栏", "专题专栏", "iso"))
        ztzl.entries = [
            Entry("国土空间规划宣传周", "/ztzl/ghxcz/", a(30), ""),
            Entry("地质灾害防治专题", "/ztzl/dzzh/", a(45), ""),
            Entry("自然资源数据开放专题", "/ztzl/sjkf/", a(60), ""),
        ]
        hostile = {
            "/ztzl/ghxcz/": "<script>alert('欢迎访问国土空间规划宣传周专题');confirm('是否订阅专题动态？');</script>",
            "/ztzl/dzzh/": "<script>var n=0;for(;;){n++;}</script>",
            "/ztzl/sjkf/": '<p><img src="/ztzl/sjkf/loading.png" width="32" height="32" alt="数据加载中"></p>',
        }
        for e in ztzl.entries:
            e.body = p(f"{e.title}，集中展示相关政策、动态和成果。") + hostile[e.path]
        self.publish(ztzl)

        # 公众参与: 意见征集 (+ 反馈), 局长信箱, 在线访谈 (JavaScript), footer without 公安备案号.
        gzcy = self.add_column(
            Column(
                "/gzcy/", "公众参与", "互动交流", None, intro="欢迎社会公众参与自然资源和规划工作"
            )
        )
        yjzj = self.add_column(
            Column("/gzcy/yjzj/", "意见征集", "互动交流", "iso", parent=gzcy.path)
        )
        fk = self.add_column(
            Column("/gzcy/yjzj/fk/", "意见反馈", "互动交流", "iso", parent=yjzj.path)
        )
        drafts = [
            # (start days ago, period days, feedback days after end or None, name, key)
            (95, 35, 10, "临川市国土空间总体规划（2021—2035年）（草案）", "ok"),
            (120, 20, 8, "临川市不动产登记操作规范（征求意见稿）", "short"),
            (60, 31, None, "临川市地质灾害防治管理办法（征求意见稿）", "no_feedback"),
            (10, 35, None, "临川市耕地保护激励办法（征求意见稿）", "open"),
        ]
        self.consultation_paths: dict[str, str] = {}
        for i, (start_ago, period, fb_after, name, key) in enumerate(drafts):
            start = a(start_ago)
            end = start + timedelta(days=period - 1)
            path = self.art_path(yjzj.path, start, 9600 + i)
            self.consultation_paths[key] = path
            body = p(f"为广泛听取社会各界意见，现将《{name}》全文公布，公开征求意见。")
            body += p(
                f"征求意见时间：{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日（共{period}天）。"
            )
            body += p("意见可通过电子邮件发送至 yjzj@lcnr.gov.cn，或邮寄至临川市赣东大道1号。")
            body += f'<p>附件：<a href="/uploads/yjzj/{key}.docx">{_e(name)}.docx</a></p>'
            if fb_after is not None:
                fd_day = end + timedelta(days=fb_after)
                fb_path = self.art_path(fk.path, fd_day, 9700 + i)
                fb_title = f"《{name}》征求意见采纳情况反馈"
                fk.entries.append(
                    Entry(
                        fb_title,
                        fb_path,
                        fd_day,
                        p(f"《{_e(name)}》公开征求意见期间，共收到意见建议12条，采纳8条。")
                        + f'<p>原文：<a href="{path}">关于《{_e(name)}》公开征求意见的公告</a></p>',
                    )
                )
                body += f'<p>意见反馈：<a href="{fb_path}">{_e(fb_title)}</a></p>'
            yjzj.entries.append(Entry(f"关于《{name}》公开征求意见的公告", path, start, body))
        self.named |= {f"consult_{k}": v for k, v in self.consultation_paths.items()}
        self.publish(yjzj)
        self.publish(fk)

        jzxx = self.add_column(
            Column("/gzcy/jzxx/", "局长信箱", "互动交流", "iso", parent=gzcy.path)
        )
        letters = [
            (5, 2, "咨询不动产登记所需材料"),
            (12, 3, "反映小区规划变更问题"),
            (25, 4, "建议公开征地补偿标准"),
            (40, 5, "咨询测绘资质办理流程"),
        ]
        for i, (asked, answered_after, title) in enumerate(letters):
            d = a(asked)
            r = d + timedelta(days=answered_after)
            jzxx.entries.append(
                Entry(
                    title,
                    self.art_path(jzxx.path, d, 9800 + i),
                    d,
                    p(f"来信时间：{d:%Y-%m-%d}")
                    + p(f"来信内容：{title}。")
                    + p(f"回复时间：{r:%Y-%m-%d}")
                    + p("回复内容：感谢您的来信，相关情况已转交业务科室办理。"),
                    source="执法监督组",
                )
            )
        self.named["jzxx_letter"] = jzxx.entries[0].path
        self.publish(jzxx)
