import { describe, expect, it } from "vitest";
import { type RouteAction, routeWords } from "../../src/commands/route.js";

const action = (words: string): RouteAction => routeWords(words).action;

describe("routeWords (the skills' routing table)", () => {
  it.each([
    ["export", "export"],
    ["Export the video please", "export"],
    ["EXPORT!", "export"],
    ["download it", "export"],
    ["can I download my video?", "export"],
    ["send me the video", "export"],
    ["Send me the final video", "export"],
    ["导出", "export"],
    ["帮我导出视频", "export"],
    ["下载视频", "export"],
  ])("%s → %s", (words, expected) => {
    expect(routeWords(words)).toEqual({ action: expected, args: [] });
  });

  it.each([
    ["credits", "credits"],
    ["How many credits do I have left?", "credits"],
    ["check my balance", "credits"],
    ["what's my credit balance", "credits"],
    ["积分", "credits"],
    ["我还有多少积分？", "credits"],
    ["查一下余额", "credits"],
  ])("%s → %s", (words, expected) => {
    expect(routeWords(words)).toEqual({ action: expected, args: [] });
  });

  it.each([
    ["status", "state"],
    ["what's the status?", "state"],
    ["show tracks", "state"],
    ["Show me the timeline", "state"],
    ["状态", "state"],
    ["查看项目状态", "state"],
  ])("%s → %s", (words, expected) => {
    expect(routeWords(words)).toEqual({ action: expected, args: [] });
  });

  it("matches English keywords as whole words only", () => {
    expect(action("I downloaded the clip yesterday, can you add music to it?")).toBe("send");
    expect(action("the exported file looks dark")).toBe("send");
    expect(action("exports")).toBe("send");
    expect(action("reexport")).toBe("send");
    expect(action("statuses")).toBe("send");
    expect(action("I uploaded the video, now add a title")).toBe("send");
  });

  it("sends words that ask for an edit even when they name export, credits or status", () => {
    expect(action("add end credits with the team names")).toBe("send");
    expect(action("roll the credits at the end")).toBe("send");
    expect(action("the opening credits should be bigger")).toBe("send");
    expect(action("balance the audio levels")).toBe("send");
    expect(action("fix the white balance")).toBe("send");
    expect(action("trim the intro and then export")).toBe("send");
    expect(action("add a status bar overlay")).toBe("send");
    expect(action("加上片尾字幕然后导出")).toBe("send");
  });

  it("prefers the read-only action when several match", () => {
    expect(action("what's the status of my export?")).toBe("state");
    expect(action("check my balance before I export")).toBe("credits");
  });

  it("uploads the paths and URLs named with upload / 上传", () => {
    expect(routeWords("upload ./clip.mp4")).toEqual({ action: "upload", args: ["./clip.mp4"] });
    expect(routeWords("Upload /home/me/a.mov and https://example.com/music.mp3.")).toEqual({
      action: "upload",
      args: ["/home/me/a.mov", "https://example.com/music.mp3"],
    });
    expect(routeWords('upload "/tmp/my clip.mp4" please')).toEqual({
      action: "upload",
      args: ["/tmp/my clip.mp4"],
    });
    expect(routeWords("上传 ~/Videos/片段.mp4")).toEqual({ action: "upload", args: ["~/Videos/片段.mp4"] });
    expect(routeWords("上传/tmp/a.mp4，谢谢")).toEqual({ action: "upload", args: ["/tmp/a.mp4"] });
    expect(routeWords("上传「/tmp/我的 视频.mov」")).toEqual({
      action: "upload",
      args: ["/tmp/我的 视频.mov"],
    });
    expect(routeWords("upload clip.mp4")).toEqual({ action: "upload", args: ["clip.mp4"] });
    // an upload wins over edit words: the agent could not read a local path anyway
    expect(routeWords("upload ./a.mp4 and add music")).toEqual({ action: "upload", args: ["./a.mp4"] });
  });

  it("asks for the file when upload names none (the command turns this into a usage error)", () => {
    expect(routeWords("upload my video")).toEqual({ action: "upload", args: [] });
    expect(routeWords("我要上传视频")).toEqual({ action: "upload", args: [] });
  });

  it("treats words that are only paths or URLs as a file being sent", () => {
    expect(routeWords("/tmp/a.mp4")).toEqual({ action: "upload", args: ["/tmp/a.mp4"] });
    expect(routeWords("https://example.com/v.mp4 ~/b.png")).toEqual({
      action: "upload",
      args: ["https://example.com/v.mp4", "~/b.png"],
    });
  });

  it("sends anything else as the message, trimmed", () => {
    expect(routeWords("  add background music  ")).toEqual({
      action: "send",
      args: ["add background music"],
    });
    expect(routeWords("make a 30 second promo from my script")).toEqual({
      action: "send",
      args: ["make a 30 second promo from my script"],
    });
    expect(action("use song.mp3 as the background music")).toBe("send");
    expect(action("给视频配上背景音乐")).toBe("send");
    expect(action("what can you do?")).toBe("send");
  });
});
