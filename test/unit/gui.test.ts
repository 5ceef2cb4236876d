import { describe, expect, it } from "vitest";
import { translateGuiText } from "../../src/client/gui.js";

describe("translateGuiText: English", () => {
  it.each([
    [
      "Your video is ready! Click the Export button in the top right corner to download it.",
      "Your video is ready! Ask me to export ({export}) to download it.",
    ],
    ["Once done, click Export.", "Once done, ask me to export ({export})."],
    ["1. Click Export\n2. Wait for the render", "1. Ask me to export ({export})\n2. Wait for the render"],
    ["**Click Export** to render.", "**Ask me to export ({export})** to render."],
    ["The Export button is now available.", "Export (just ask me: {export}) is now available."],
  ])("Export button → export_video: %j", (input, expected) => {
    expect(translateGuiText(input)).toBe(expected);
  });

  it.each([
    ["Click Apply to save the changes.", "Ask me to apply it to save the changes."],
    ["If it looks good, click the Apply button.", "If it looks good, ask me to apply it."],
    ["By clicking Save, you keep the changes.", "By asking me to save it, you keep the changes."],
    ["Tip: click OK to continue.", 'Tip: reply "ok" to continue.'],
    ["Click [Add Music] to pick a track.", "Ask me to add music to pick a track."],
    ["- click the Apply button", "- Ask me to apply it"],
    ["Double-click the clip to edit it.", "Tell me the edit in words."],
    ["Click Upload to add your footage.", "Send me the file paths or URLs ({upload}) to add your footage."],
  ])("click [button] → the action through the tools: %j", (input, expected) => {
    expect(translateGuiText(input)).toBe(expected);
  });

  it.each([
    [
      "Open the Assets panel on the left to see your uploads.",
      "Ask for the current state ({check_state}) to see your uploads.",
    ],
    ["You can open the media library anytime.", "You can ask for the current state ({check_state}) anytime."],
  ])("open [panel] → get_state: %j", (input, expected) => {
    expect(translateGuiText(input)).toBe(expected);
  });

  it.each([
    ["You can preview it in the timeline.", "You can ask for the timeline summary ({check_state})."],
    [
      "Preview the changes in the timeline before exporting.",
      "Ask for the timeline summary ({check_state}) before exporting.",
    ],
  ])("preview in the timeline → timeline summary: %j", (input, expected) => {
    expect(translateGuiText(input)).toBe(expected);
  });

  it.each([
    ["Drag the clip to the start of the timeline.", "Tell me to move the clip to the start of the timeline."],
    ["You can reorder clips with drag and drop.", "You can reorder clips by telling me the edit in words."],
    ["Drag the volume slider to 50%.", "Tell me to set the volume to 50%."],
    [
      "Drag and drop your video here to get started.",
      "Send me the file paths or URLs ({upload}) to get started.",
    ],
  ])("drag/drop → the edit in words: %j", (input, expected) => {
    expect(translateGuiText(input)).toBe(expected);
  });

  it.each([
    [
      "Please check your account to see your balance.",
      "Please ask for your credits ({credits}) to see your balance.",
    ],
    ["Go to the billing page for details.", "Ask for your credits ({credits}) for details."],
    [
      "You can see your remaining credits on the account page.",
      "You can see your remaining credits by asking for your credits ({credits}).",
    ],
  ])("account/billing → get_credits: %j", (input, expected) => {
    expect(translateGuiText(input)).toBe(expected);
  });

  it("rewrites several phrases in one reply", () => {
    expect(
      translateGuiText(
        "Done! I added Lo-fi at 35%. Preview it in the timeline, then click Export to download your video.",
      ),
    ).toBe(
      "Done! I added Lo-fi at 35%. Ask for the timeline summary ({check_state}), then ask me to export ({export}) to download your video.",
    );
  });
});

describe("translateGuiText: Chinese", () => {
  it.each([
    ["视频已生成，点击导出按钮即可下载。", "视频已生成，让我导出（{export}）即可下载。"],
    ["点击右上角的「导出」即可。", "让我导出（{export}）即可。"],
    ["您可以在时间线预览效果。", "您可以让我给出时间线摘要（{check_state}）。"],
    ["打开素材面板查看已上传的文件。", "让我显示当前状态（{check_state}），查看已上传的文件。"],
    ["将背景音乐拖拽到音频轨道上即可。", "告诉我把背景音乐移到音频轨道上即可。"],
    ["您可以拖拽调整片段顺序。", "您可以通过文字告诉我来调整片段顺序。"],
    ["支持拖拽。", "支持用文字告诉我要做的修改。"],
    ["积分不足，请前往账户页面充值。", "积分不足，可以让我查询积分（{credits}）。"],
    ["点击「应用」按钮使字幕生效。", "告诉我“应用”使字幕生效。"],
    ["点击右上角的应用按钮。", "告诉我“应用”。"],
    ["满意的话点击生成即可开始。", "满意的话告诉我“生成”即可开始。"],
  ])("%j", (input, expected) => {
    expect(translateGuiText(input)).toBe(expected);
  });
});

describe("translateGuiText: text without GUI talk", () => {
  it.each([
    'I added a lo-fi track at 35% volume and a title "Urban Dreams" (0-3s).',
    "I clicked through the options and reopened the project.",
    "Click here to open the project in your browser: https://nemovideo.com/workspace/claim?ct=abc",
    "Open the link in a new tab to claim the project.",
    "Here is a preview of your video: a 10-second city timelapse.",
    "The export settings are 1080p, H.264.",
    "There is a small drop in volume at 0:05; it opened with a drag race scene.",
    "Press Enter to confirm.",
    "Click the title to change its font.",
    "This open-source font is free to use.",
    "已为您添加英文配音，背景音乐音量为35%。",
    "打开浏览器访问链接即可认领项目。",
    "点击链接即可认领项目。",
    "Line one\r\nLine two 🎬\n\n",
    "",
  ])("leaves %j byte-identical", (input) => {
    expect(translateGuiText(input)).toBe(input);
  });
});

describe("panel names and billing pages are consumed whole", () => {
  it.each([
    [
      "Open the timeline panel to preview it, then click the Export button to download your MP4.",
      "Ask for the current state ({check_state}) to preview it, then ask me to export ({export}) to download your MP4.",
    ],
    ["You can check your account billing page.", "You can ask for your credits ({credits})."],
  ])("%j", (input, expected) => {
    expect(translateGuiText(input)).toBe(expected);
  });
});
